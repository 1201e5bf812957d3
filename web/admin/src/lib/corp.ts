// The corp settings form: the editable values of the binding, and the UpdateCorpSettings request of what changed,
// checked first in plain Chinese naming the field (the server checks the same).
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { CorpSettings, UpdateCorpSettingsRequestSchema } from "../gen/scrm/identity/v1/identity_pb";

/** The UpdateCorpSettings request the form sends. */
export type CorpUpdate = MessageInitShape<typeof UpdateCorpSettingsRequestSchema>;

/** The form: the binding's editable values; the secret is write-only, empty keeps it. */
export interface CorpDraft {
  corpId: string;
  corpName: string;
  agentid: number;
  secret: string;
  publicBaseUrl: string;
  timezone: string;
  defaultStaffRole: number;
}

/** The form filled from the current settings. */
export function corpDraft(settings: CorpSettings | undefined): CorpDraft {
  return {
    corpId: settings?.corpId ?? "",
    corpName: settings?.corpName ?? "",
    agentid: Number(settings?.agentid ?? 0n),
    secret: "",
    publicBaseUrl: settings?.publicBaseUrl ?? "",
    timezone: settings?.timezone ?? "Asia/Shanghai",
    defaultStaffRole: settings?.defaultStaffRole ?? 0,
  };
}

/** What the form changes: the request (only changed fields set), their Chinese names, or the first problem. */
export function corpChanges(
  settings: CorpSettings | undefined,
  draft: CorpDraft,
): { request: CorpUpdate; changed: string[]; problem: { field: string; message: string } | null } {
  const before = corpDraft(settings);
  const request: CorpUpdate = {};
  const changed: string[] = [];
  const corpId = draft.corpId.trim();
  const baseUrl = draft.publicBaseUrl.trim().replace(/\/+$/, "");
  const timezone = draft.timezone.trim();
  const fail = (field: string, message: string) => ({ request: {}, changed: [], problem: { field, message } });
  if (corpId && !/^[A-Za-z0-9]{1,64}$/.test(corpId)) return fail("corp_id", "企业 ID 由字母和数字组成，例如 ww1234567890abcdef");
  if ([...draft.corpName.trim()].length > 64) return fail("corp_name", "企业名称最多 64 个字");
  if (!Number.isInteger(draft.agentid) || draft.agentid < 0) return fail("agentid", "AgentId 是非负整数");
  if (/\s/.test(draft.secret.trim()) || draft.secret.trim().length > 128) return fail("secret", "Secret 不能包含空格，最多 128 个字符");
  if (baseUrl && !/^https?:\/\/[A-Za-z0-9.\-:[\]]+$/.test(baseUrl)) return fail("public_base_url", "对外访问地址形如 https://scrm.example.com，不带路径");
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z][A-Za-z0-9_+-]*)*$/.test(timezone)) return fail("timezone", "时区是 IANA 名称，例如 Asia/Shanghai");
  if (corpId !== before.corpId) {
    request.corpId = corpId;
    changed.push("企业 ID");
  }
  if (draft.corpName.trim() !== before.corpName) {
    request.corpName = draft.corpName.trim();
    changed.push("企业名称");
  }
  if (draft.agentid !== before.agentid) {
    request.agentid = BigInt(draft.agentid);
    changed.push("应用 AgentId");
  }
  if (draft.secret.trim()) {
    request.secret = draft.secret.trim();
    changed.push("应用 Secret");
  }
  if (baseUrl !== before.publicBaseUrl) {
    request.publicBaseUrl = baseUrl;
    changed.push("对外访问地址");
  }
  if (timezone !== before.timezone) {
    request.timezone = timezone;
    changed.push("时区");
  }
  if (draft.defaultStaffRole !== before.defaultStaffRole) {
    request.defaultStaffRole = draft.defaultStaffRole;
    changed.push("员工首次登录角色");
  }
  return { request, changed, problem: null };
}
