// Welcome rules (欢迎语) as the admin edits them: a flat form for the dialog, its checks in plain Chinese naming
// the field (the server checks the same), the variables people insert by their Chinese names, and the coverage
// of groups carrying the current WeCom welcome template.
import { create } from "@bufbuild/protobuf";
import {
  TemplateSyncState,
  WelcomeChannel,
  WelcomeCoverage,
  WelcomeRuleSchema,
  WelcomeScopeKind,
  type GetWelcomeCoverageResponse,
  type WelcomeRule,
} from "../gen/scrm/group/v1/group_pb";

/** A variable the text may carry: its Chinese name, WeCom's placeholder, and a sample for the preview. */
export interface WelcomeVariable {
  label: string;
  token: string;
  sample: string;
  /** Whether WeCom's group welcome template accepts it (only the nickname). */
  inTemplate: boolean;
}

/** The variables, in the order the editor offers them. */
export const WELCOME_VARIABLES: WelcomeVariable[] = [
  { label: "客户昵称", token: "%NICKNAME%", sample: "小王", inTemplate: true },
  { label: "群名称", token: "%GROUP_NAME%", sample: "会员福利群", inTemplate: false },
  { label: "群主姓名", token: "%OWNER_NAME%", sample: "李店长", inTemplate: false },
];

/** Scope kinds with their labels. */
export const SCOPE_LABELS: Record<number, string> = {
  [WelcomeScopeKind.DEFAULT]: "默认（其他规则未覆盖的群）",
  [WelcomeScopeKind.GROUPS]: "指定群",
  [WelcomeScopeKind.GROUP_TAGS]: "按群标签",
  [WelcomeScopeKind.CAMPAIGN]: "按活动渠道（state）",
};

/** Channels with their labels. */
export const CHANNEL_LABELS: Record<number, string> = {
  [WelcomeChannel.GROUP_TEMPLATE]: "入群欢迎语素材（企业微信自动发送）",
  [WelcomeChannel.ROBOT]: "群机器人",
  [WelcomeChannel.CONTACT_WELCOME_MSG]: "加好友欢迎语（渠道活码）",
};

/** Template sync states with their labels and tag types. */
export function syncStateLabel(state: TemplateSyncState | undefined): { text: string; type: "success" | "warning" | "danger" | "info" } {
  switch (state) {
    case TemplateSyncState.PENDING:
      return { text: "同步中", type: "warning" };
    case TemplateSyncState.SYNCED:
      return { text: "已同步", type: "success" };
    case TemplateSyncState.FAILED:
      return { text: "同步失败", type: "danger" };
    default:
      return { text: "不使用素材", type: "info" };
  }
}

/** The attachment kinds the form offers. */
export type AttachmentKind = "none" | "image" | "link" | "miniprogram";

/** The dialog's flat form of a rule. */
export interface WelcomeForm {
  id: bigint;
  name: string;
  scopeKind: WelcomeScopeKind;
  chatIds: string[];
  tagIds: bigint[];
  states: string[];
  channels: WelcomeChannel[];
  enabled: boolean;
  priority: number;
  notify: boolean;
  text: string;
  attachment: AttachmentKind;
  imageUrl: string;
  linkTitle: string;
  linkUrl: string;
  linkDesc: string;
  linkPicUrl: string;
  miniTitle: string;
  miniAppid: string;
  miniPage: string;
  miniPicUrl: string;
}

/** An empty form: a default-scope rule through the group template. */
export function emptyForm(): WelcomeForm {
  return {
    id: 0n,
    name: "",
    scopeKind: WelcomeScopeKind.DEFAULT,
    chatIds: [],
    tagIds: [],
    states: [],
    channels: [WelcomeChannel.GROUP_TEMPLATE],
    enabled: true,
    priority: 0,
    notify: true,
    text: "欢迎 %NICKNAME% 加入！",
    attachment: "none",
    imageUrl: "",
    linkTitle: "",
    linkUrl: "",
    linkDesc: "",
    linkPicUrl: "",
    miniTitle: "",
    miniAppid: "",
    miniPage: "",
    miniPicUrl: "",
  };
}

/** The form of an existing rule. */
export function ruleToForm(rule: WelcomeRule): WelcomeForm {
  const form = emptyForm();
  const attachment = rule.content?.attachment;
  Object.assign(form, {
    id: rule.id,
    name: rule.name,
    scopeKind: rule.scope?.kind ?? WelcomeScopeKind.DEFAULT,
    chatIds: [...(rule.scope?.chatIds ?? [])],
    tagIds: [...(rule.scope?.tagIds ?? [])],
    states: [...(rule.scope?.states ?? [])],
    channels: [...rule.channels],
    enabled: rule.enabled,
    priority: rule.priority,
    notify: rule.template?.notify ?? true,
    text: rule.content?.text ?? "",
    attachment: attachment?.case ?? "none",
  });
  if (attachment?.case === "image") form.imageUrl = attachment.value.picUrl;
  if (attachment?.case === "link") {
    Object.assign(form, { linkTitle: attachment.value.title, linkUrl: attachment.value.url, linkDesc: attachment.value.desc, linkPicUrl: attachment.value.picurl });
  }
  if (attachment?.case === "miniprogram") {
    Object.assign(form, { miniTitle: attachment.value.title, miniAppid: attachment.value.appid, miniPage: attachment.value.page, miniPicUrl: attachment.value.picUrl });
  }
  return form;
}

/** The rule the form describes, as CreateWelcomeRule and UpdateWelcomeRule take it. */
export function formToRule(form: WelcomeForm): WelcomeRule {
  const attachment = (() => {
    switch (form.attachment) {
      case "image":
        return { case: "image" as const, value: { picUrl: form.imageUrl.trim() } };
      case "link":
        return { case: "link" as const, value: { title: form.linkTitle.trim(), url: form.linkUrl.trim(), desc: form.linkDesc.trim(), picurl: form.linkPicUrl.trim() } };
      case "miniprogram":
        return { case: "miniprogram" as const, value: { title: form.miniTitle.trim(), appid: form.miniAppid.trim(), page: form.miniPage.trim(), picUrl: form.miniPicUrl.trim() } };
      default:
        return { case: undefined };
    }
  })();
  const kind = form.scopeKind;
  return create(WelcomeRuleSchema, {
    id: form.id,
    name: form.name.trim(),
    scope: {
      kind,
      chatIds: kind === WelcomeScopeKind.GROUPS ? form.chatIds : [],
      tagIds: kind === WelcomeScopeKind.GROUP_TAGS ? form.tagIds : [],
      states: kind === WelcomeScopeKind.CAMPAIGN ? form.states.map((state) => state.trim()).filter(Boolean) : [],
    },
    content: { text: form.text, attachment },
    channels: form.channels,
    enabled: form.enabled,
    priority: form.priority,
    template: form.channels.includes(WelcomeChannel.GROUP_TEMPLATE) ? { notify: form.notify } : undefined,
  });
}

/** The `%…%` placeholders in `text`. */
export function placeholders(text: string): string[] {
  return text.match(/%[A-Z_]+%/g) ?? [];
}

/** A problem with the form: the field (as the form names it) and what to do, in Chinese. */
export interface FormProblem {
  field: string;
  message: string;
}

const isUrl = (value: string) => /^https?:\/\/\S+$/.test(value.trim());

/** The first problem of the form, or null when the server should accept it. */
export function checkWelcomeForm(form: WelcomeForm): FormProblem | null {
  const name = form.name.trim();
  if (!name) return { field: "name", message: "请填写规则名称，例如“3月盲盒活动欢迎语”" };
  if ([...name].length > 64) return { field: "name", message: "规则名称最多 64 个字" };
  if (form.scopeKind === WelcomeScopeKind.GROUPS && form.chatIds.length === 0) return { field: "chatIds", message: "请至少选择一个群" };
  if (form.scopeKind === WelcomeScopeKind.GROUP_TAGS && form.tagIds.length === 0) return { field: "tagIds", message: "请至少选择一个群标签" };
  if (form.scopeKind === WelcomeScopeKind.CAMPAIGN && !form.states.some((state) => state.trim())) {
    return { field: "states", message: "请至少填写一个渠道 state（入群方式或渠道活码的 state）" };
  }
  if (form.channels.length === 0) return { field: "channels", message: "请至少选择一个发送渠道" };
  if (!form.text.trim() && form.attachment === "none") return { field: "text", message: "请填写欢迎语内容，或添加一个附件" };
  if (new TextEncoder().encode(form.text).length > 4000) return { field: "text", message: "欢迎语内容最多 4000 字节（约 1300 个汉字）" };
  const template = form.channels.includes(WelcomeChannel.GROUP_TEMPLATE);
  for (const token of placeholders(form.text)) {
    const variable = WELCOME_VARIABLES.find((candidate) => candidate.token === token);
    if (!variable) return { field: "text", message: `不认识的变量 ${token}，请用上方按钮插入变量` };
    if (template && !variable.inTemplate) {
      return { field: "text", message: `企业微信的入群欢迎语素材只支持“客户昵称”变量，请去掉“${variable.label}”或不选该渠道` };
    }
  }
  if (form.attachment === "image" && !isUrl(form.imageUrl)) return { field: "imageUrl", message: "请填写图片地址（http 或 https 开头）" };
  if (form.attachment === "link") {
    if (!form.linkTitle.trim()) return { field: "linkTitle", message: "请填写链接卡片的标题" };
    if (!isUrl(form.linkUrl)) return { field: "linkUrl", message: "请填写链接地址（http 或 https 开头）" };
  }
  if (form.attachment === "miniprogram") {
    if (!form.miniTitle.trim()) return { field: "miniTitle", message: "请填写小程序卡片的标题" };
    if (!form.miniAppid.trim()) return { field: "miniAppid", message: "请填写小程序 appid" };
    if (!form.miniPage.trim()) return { field: "miniPage", message: "请填写小程序页面路径，例如 /pages/index.html" };
  }
  return null;
}

/** The text as a joiner would see it, variables filled with samples. */
export function previewText(text: string): string {
  return WELCOME_VARIABLES.reduce((result, variable) => result.split(variable.token).join(variable.sample), text);
}

/** The text with `token` inserted at `position` (the caret), and where the caret goes next. */
export function insertAt(text: string, position: number, token: string): { text: string; caret: number } {
  const at = Math.max(0, Math.min(position, text.length));
  return { text: text.slice(0, at) + token + text.slice(at), caret: at + token.length };
}

/** The form field of each field the server may name in INVALID_ARGUMENT. */
export const SERVER_FIELDS: Record<string, string> = {
  "rule.name": "name",
  "rule.scope.chat_ids": "chatIds",
  "rule.scope.tag_ids": "tagIds",
  "rule.scope.states": "states",
  "rule.channels": "channels",
  "rule.content.text": "text",
  "rule.content.link": "linkUrl",
  "rule.content.image.pic_url": "imageUrl",
  "rule.content.miniprogram": "miniAppid",
};

/** The server's refusal as a problem under the form field it names; null when it names none the form has. */
export function serverProblem(field: string | null | undefined, message: string): FormProblem | null {
  const formField = field ? SERVER_FIELDS[field] : undefined;
  return formField ? { field: formField, message: `服务器未接受：${message}` } : null;
}

/** The coverage figures: how many applicable groups carry the current template, and the gaps. */
export interface CoverageFigures {
  applicable: number;
  current: number;
  outdated: number;
  missing: number;
  /** Percentage carrying the current template, one decimal. */
  percent: number;
}

/** The figures of a GetWelcomeCoverage answer. */
export function coverageFigures(answer: GetWelcomeCoverageResponse): CoverageFigures {
  return {
    applicable: Number(answer.applicableGroups),
    current: Number(answer.currentGroups),
    outdated: Number(answer.outdatedGroups),
    missing: Number(answer.missingGroups),
    percent: Math.round(answer.coverageBps / 10) / 10,
  };
}

/** A coverage state with its label and tag type. */
export function coverageLabel(coverage: WelcomeCoverage): { text: string; type: "success" | "warning" | "danger" | "info" } {
  switch (coverage) {
    case WelcomeCoverage.CURRENT:
      return { text: "已使用最新素材", type: "success" };
    case WelcomeCoverage.OUTDATED:
      return { text: "素材已过期", type: "warning" };
    case WelcomeCoverage.MISSING:
      return { text: "未使用素材", type: "danger" };
    default:
      return { text: "无需素材", type: "info" };
  }
}
