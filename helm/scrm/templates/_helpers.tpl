{{/*
Helpers for the scrm chart.

Layout of what the chart renders:
  configmap.yaml  <fullname>            non-secret SCRM_* variables   (scrm.configData)
  secret.yaml     <fullname>            inline secret SCRM_* variables (scrm.secretData)
  deployment.yaml <fullname>            allInOne: `scrm serve`
                  <fullname>-<service>  perService: `scrm serve --services <service>`
  service.yaml    <fullname>            browser-facing Service (both modes)
                  <fullname>-<service>  perService: one ClusterIP Service per service
  migration-job.yaml                    optional hook Job running `scrm migrate`
Every scrm container gets `envFrom` the ConfigMap and the Secret, plus `env`
entries (scrm.secretEnv) for values kept in user-supplied Secrets.
*/}}

{{/* Chart name, overridable with nameOverride. */}}
{{- define "scrm.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified app name: <release>-scrm, or just <release> when the release
name already contains "scrm". Truncated to 63 characters (DNS label limit).
*/}}
{{- define "scrm.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Name of a per-service object: <fullname>-<service>.
Call with (dict "root" $ "service" "identity").
*/}}
{{- define "scrm.serviceFullname" -}}
{{- printf "%s-%s" (include "scrm.fullname" .root) .service | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Chart label value. */}}
{{- define "scrm.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Common labels. */}}
{{- define "scrm.labels" -}}
helm.sh/chart: {{ include "scrm.chart" . }}
{{ include "scrm.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Selector labels (a pod's app.kubernetes.io/component is added per Deployment). */}}
{{- define "scrm.selectorLabels" -}}
app.kubernetes.io/name: {{ include "scrm.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Container image. */}}
{{- define "scrm.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag | toString) }}
{{- end }}

{{/* The seven services, in a fixed order, space separated (use with splitList " "). */}}
{{- define "scrm.allServices" -}}
identity customer group messaging campaign rewards analytics
{{- end }}

{{/*
The component label of the pods behind the browser-facing Service:
"all-in-one" in allInOne mode, perService.frontService in perService mode.
*/}}
{{- define "scrm.frontComponent" -}}
{{- if eq .Values.mode "perService" }}
{{- .Values.perService.frontService }}
{{- else }}
{{- print "all-in-one" }}
{{- end }}
{{- end }}

{{/* True ("true") when the named service is enabled in perService mode. Call with (dict "root" $ "service" "identity"). */}}
{{- define "scrm.serviceEnabled" -}}
{{- if dig .service "enabled" false .root.Values.perService.services }}true{{ end }}
{{- end }}

{{/* "true" when MySQL is configured (URL or existing Secret). */}}
{{- define "scrm.hasMysql" -}}
{{- if or .Values.mysql.url .Values.mysql.existingSecret }}true{{ end }}
{{- end }}

{{/*
Checks the values and stops the render with a clear message when they cannot work.
Included once, from deployment.yaml.
*/}}
{{- define "scrm.validate" -}}
{{- $all := splitList " " (include "scrm.allServices" .) }}
{{- if not (has .Values.mode (list "allInOne" "perService")) }}
{{- fail (printf "mode must be allInOne or perService, not %q" (toString .Values.mode)) }}
{{- end }}
{{- if not (has .Values.telemetry.logFormat (list "human" "json")) }}
{{- fail (printf "telemetry.logFormat must be human or json, not %q" (toString .Values.telemetry.logFormat)) }}
{{- end }}
{{- range $name, $_ := .Values.perService.services }}
{{- if not (has $name $all) }}
{{- fail (printf "perService.services.%s: unknown service (known: %s)" $name (join ", " $all)) }}
{{- end }}
{{- end }}
{{- range $name, $_ := .Values.perService.urls }}
{{- if not (has $name $all) }}
{{- fail (printf "perService.urls.%s: unknown service (known: %s)" $name (join ", " $all)) }}
{{- end }}
{{- end }}
{{- if eq .Values.mode "perService" }}
{{- if not (include "scrm.serviceEnabled" (dict "root" . "service" .Values.perService.frontService)) }}
{{- fail (printf "perService.frontService %q must name an enabled service in perService.services" (toString .Values.perService.frontService)) }}
{{- end }}
{{- if not (or .Values.cluster.token .Values.cluster.existingSecret) }}
{{- fail "perService mode needs the shared SCRM_CLUSTER_TOKEN: set cluster.token or cluster.existingSecret" }}
{{- end }}
{{- if not (include "scrm.hasMysql" .) }}
{{- fail "perService mode needs MySQL shared by all pods: set mysql.url or mysql.existingSecret" }}
{{- end }}
{{- end }}
{{- if and .Values.migrationJob.enabled (not (include "scrm.hasMysql" .)) }}
{{- fail "migrationJob.enabled needs MySQL (mysql.url or mysql.existingSecret); with SQLite the pod migrates its own database at start" }}
{{- end }}
{{- end }}

{{/*
Non-secret environment (the ConfigMap's data), as a YAML map of strings.
Empty values are left out so the binary's defaults apply; `config` entries are
added last and win over the chart's keys.
*/}}
{{- define "scrm.configData" -}}
{{- $cfg := dict }}
{{- $_ := set $cfg "SCRM_DATA_DIR" (toString .Values.dataDir) }}
{{- $_ := set $cfg "SCRM_SERVER_LISTEN" (printf "0.0.0.0:%v" .Values.containerPort) }}
{{- with .Values.server.corsOrigins }}
{{- $_ := set $cfg "SCRM_SERVER_CORS_ORIGINS" (join "," .) }}
{{- end }}
{{- with .Values.server.staticDir }}
{{- $_ := set $cfg "SCRM_SERVER_STATIC_DIR" (toString .) }}
{{- end }}
{{- with .Values.server.requestTimeoutSecs }}
{{- $_ := set $cfg "SCRM_SERVER_REQUEST_TIMEOUT_SECS" (toString .) }}
{{- end }}
{{- with .Values.mysql.maxConnections }}
{{- $_ := set $cfg "SCRM_DATABASE_MAX_CONNECTIONS" (toString .) }}
{{- end }}
{{- $_ := set $cfg "SCRM_TELEMETRY_LOG_FORMAT" (toString .Values.telemetry.logFormat) }}
{{- with .Values.telemetry.otlpEndpoint }}
{{- $_ := set $cfg "SCRM_TELEMETRY_OTLP_ENDPOINT" (toString .) }}
{{- end }}
{{- with .Values.wecom.corpId }}
{{- $_ := set $cfg "SCRM_WECOM_CORP_ID" (toString .) }}
{{- end }}
{{- with .Values.wecom.apiBase }}
{{- $_ := set $cfg "SCRM_WECOM_API_BASE" (toString .) }}
{{- end }}
{{- with .Values.wecom.agentId }}
{{- $_ := set $cfg "SCRM_WECOM_AGENT_ID" (toString .) }}
{{- end }}
{{- with .Values.wecom.trustedDomain }}
{{- $_ := set $cfg "SCRM_WECOM_TRUSTED_DOMAIN" (toString .) }}
{{- end }}
{{- with .Values.auth.sessionTtlHours }}
{{- $_ := set $cfg "SCRM_AUTH_SESSION_TTL_HOURS" (toString .) }}
{{- end }}
{{- with .Values.auth.defaultStaffRole }}
{{- $_ := set $cfg "SCRM_AUTH_DEFAULT_STAFF_ROLE" (toString .) }}
{{- end }}
{{- with .Values.broadcast.receiveQuotaPerDay }}
{{- $_ := set $cfg "SCRM_BROADCAST_RECEIVE_QUOTA_PER_DAY" (toString .) }}
{{- end }}
{{- with .Values.broadcast.maxChatsPerTask }}
{{- $_ := set $cfg "SCRM_BROADCAST_MAX_CHATS_PER_TASK" (toString .) }}
{{- end }}
{{- with .Values.broadcast.ratePerMinute }}
{{- $_ := set $cfg "SCRM_BROADCAST_RATE_PER_MINUTE" (toString .) }}
{{- end }}
{{- /* perService: where every service lives, SCRM_CLUSTER_<SERVICE>_URL. */}}
{{- if eq .Values.mode "perService" }}
{{- range $svc := splitList " " (include "scrm.allServices" .) }}
{{- $url := get $.Values.perService.urls $svc }}
{{- if not $url }}
{{- $url = printf "http://%s:%v" (include "scrm.serviceFullname" (dict "root" $ "service" $svc)) $.Values.service.port }}
{{- end }}
{{- $_ := set $cfg (printf "SCRM_CLUSTER_%s_URL" (upper $svc)) (toString $url) }}
{{- end }}
{{- end }}
{{- range $key, $value := .Values.config }}
{{- $_ := set $cfg $key (toString $value) }}
{{- end }}
{{- toYaml $cfg }}
{{- end }}

{{/*
Secret environment given inline in the values (the chart Secret's data), as a
YAML map of base64 strings. A group with an existingSecret is left out here and
read through scrm.secretEnv instead.
*/}}
{{- define "scrm.secretData" -}}
{{- $data := dict }}
{{- if and .Values.mysql.url (not .Values.mysql.existingSecret) }}
{{- $_ := set $data "SCRM_DATABASE_URL" (.Values.mysql.url | toString | b64enc) }}
{{- end }}
{{- if and .Values.redis.url (not .Values.redis.existingSecret) }}
{{- $_ := set $data "SCRM_CACHE_REDIS_URL" (.Values.redis.url | toString | b64enc) }}
{{- end }}
{{- if and .Values.cluster.token (not .Values.cluster.existingSecret) }}
{{- $_ := set $data "SCRM_CLUSTER_TOKEN" (.Values.cluster.token | toString | b64enc) }}
{{- end }}
{{- if not .Values.wecom.existingSecret }}
{{- with .Values.wecom.secret }}
{{- $_ := set $data "SCRM_WECOM_SECRET" (. | toString | b64enc) }}
{{- end }}
{{- with .Values.wecom.callbackToken }}
{{- $_ := set $data "SCRM_WECOM_CALLBACK_TOKEN" (. | toString | b64enc) }}
{{- end }}
{{- with .Values.wecom.encodingAesKey }}
{{- $_ := set $data "SCRM_WECOM_ENCODING_AES_KEY" (. | toString | b64enc) }}
{{- end }}
{{- end }}
{{- toYaml $data }}
{{- end }}

{{/*
`env` entries for values kept in user-supplied Secrets (existingSecret). These
take precedence over envFrom. Renders nothing when no existingSecret is set.
*/}}
{{- define "scrm.secretEnv" -}}
{{- with .Values.mysql.existingSecret }}
- name: SCRM_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ . | quote }}
      key: {{ $.Values.mysql.existingSecretKey | quote }}
{{- end }}
{{- with .Values.redis.existingSecret }}
- name: SCRM_CACHE_REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ . | quote }}
      key: {{ $.Values.redis.existingSecretKey | quote }}
{{- end }}
{{- with .Values.cluster.existingSecret }}
- name: SCRM_CLUSTER_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ . | quote }}
      key: {{ $.Values.cluster.existingSecretKey | quote }}
{{- end }}
{{- with .Values.wecom.existingSecret }}
{{- /* Each WeCom key is optional: a Secret may hold only some of them. */}}
- name: SCRM_WECOM_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ . | quote }}
      key: {{ $.Values.wecom.existingSecretKeys.secret | quote }}
      optional: true
- name: SCRM_WECOM_CALLBACK_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ . | quote }}
      key: {{ $.Values.wecom.existingSecretKeys.callbackToken | quote }}
      optional: true
- name: SCRM_WECOM_ENCODING_AES_KEY
  valueFrom:
    secretKeyRef:
      name: {{ . | quote }}
      key: {{ $.Values.wecom.existingSecretKeys.encodingAesKey | quote }}
      optional: true
{{- end }}
{{- end }}

{{/*
Deployment strategy: `strategy` when set; otherwise Recreate when an allInOne pod
mounts persistence.existingClaim (a ReadWriteOnce volume, SQLite); otherwise none
(Kubernetes' RollingUpdate). Call with (dict "root" $ "allInOne" true|false).
*/}}
{{- define "scrm.strategy" -}}
{{- if .root.Values.strategy }}
{{- toYaml .root.Values.strategy }}
{{- else if and .allInOne .root.Values.persistence.existingClaim }}
type: Recreate
{{- end }}
{{- end }}

{{/*
The data and /tmp volumes (the root filesystem is read-only).
Call with (dict "root" $ "allInOne" true|false): only allInOne pods mount
persistence.existingClaim.
*/}}
{{- define "scrm.volumes" -}}
- name: data
{{- if and .allInOne .root.Values.persistence.existingClaim }}
  persistentVolumeClaim:
    claimName: {{ .root.Values.persistence.existingClaim | quote }}
{{- else }}
  emptyDir: {}
{{- end }}
- name: tmp
  emptyDir: {}
{{- end }}

{{- define "scrm.volumeMounts" -}}
- name: data
  mountPath: {{ .Values.dataDir | quote }}
- name: tmp
  mountPath: /tmp
{{- end }}

{{/*
One scrm Deployment. Call with a dict:
  root       the top-level context ($)
  name       Deployment name
  component  app.kubernetes.io/component label (selects the pods)
  args       container args, e.g. (list "serve")
  replicas   replica count
  resources  container resources
  allInOne   true for the allInOne Deployment
*/}}
{{- define "scrm.deployment" -}}
{{- $root := .root }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .name }}
  labels:
    {{- include "scrm.labels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ .component }}
spec:
  replicas: {{ .replicas }}
  {{- with include "scrm.strategy" (dict "root" $root "allInOne" .allInOne) }}
  strategy:
    {{- . | nindent 4 }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "scrm.selectorLabels" $root | nindent 6 }}
      app.kubernetes.io/component: {{ .component }}
  template:
    metadata:
      annotations:
        # Changing the ConfigMap or the chart's Secret rolls the pods.
        checksum/config: {{ include (print $root.Template.BasePath "/configmap.yaml") $root | sha256sum }}
        checksum/secret: {{ include (print $root.Template.BasePath "/secret.yaml") $root | sha256sum }}
        {{- with $root.Values.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      labels:
        {{- include "scrm.selectorLabels" $root | nindent 8 }}
        app.kubernetes.io/component: {{ .component }}
        {{- with $root.Values.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      {{- with $root.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      securityContext:
        {{- toYaml $root.Values.podSecurityContext | nindent 8 }}
      # The binary drains in-flight requests on SIGTERM.
      terminationGracePeriodSeconds: {{ $root.Values.terminationGracePeriodSeconds }}
      containers:
        - name: scrm
          image: {{ include "scrm.image" $root | quote }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          args:
            {{- toYaml .args | nindent 12 }}
          ports:
            - name: http
              containerPort: {{ $root.Values.containerPort }}
              protocol: TCP
          envFrom:
            - configMapRef:
                name: {{ include "scrm.fullname" $root }}
            - secretRef:
                name: {{ include "scrm.fullname" $root }}
          {{- with include "scrm.secretEnv" $root | trim }}
          env:
            {{- . | nindent 12 }}
          {{- end }}
          {{- with $root.Values.startupProbe }}
          startupProbe:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          {{- with $root.Values.livenessProbe }}
          livenessProbe:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          {{- with $root.Values.readinessProbe }}
          readinessProbe:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          {{- with .resources }}
          resources:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          securityContext:
            {{- toYaml $root.Values.securityContext | nindent 12 }}
          volumeMounts:
            {{- include "scrm.volumeMounts" $root | nindent 12 }}
      volumes:
        {{- include "scrm.volumes" (dict "root" $root "allInOne" .allInOne) | nindent 8 }}
      {{- with $root.Values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $root.Values.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $root.Values.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end }}
