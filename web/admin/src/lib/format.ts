// Shared formatting: dates in the user's own timezone, and API errors in plain Chinese naming the field.
import { ConnectError, Code } from "@connectrpc/connect";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { ApiProblem } from "./api";

/** A protobuf timestamp (or milliseconds) as local date and time, e.g. `2026/11/26 10:58`. */
export function formatTime(time: Timestamp | number | undefined, timeZone?: string): string {
  if (time === undefined) return "—";
  const millis = typeof time === "number" ? time : Number(time.seconds) * 1000 + Math.floor(time.nanos / 1e6);
  if (millis <= 0) return "—";
  return new Intl.DateTimeFormat("zh-CN", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    hour12: false,
  }).format(new Date(millis));
}

const FIELD_NAMES: Record<string, string> = {
  username: "用户名",
  password: "密码",
  name: "名称",
  role: "角色",
  store_ids: "门店",
  new_password: "新密码",
  current_password: "当前密码",
  display_name: "显示名称",
  "x-csrf-token": "安全校验",
  external_userid: "客户",
  content: "内容",
  title: "标题",
  query: "搜索词",
  folder_id: "文件夹",
  tiers: "等级",
  body: "CSV 文件",
  "content.text.text": "回复内容",
  "content.image.image_url": "图片地址",
  "content.link.url": "链接",
  "content.link.title": "卡片标题",
  "content.miniprogram.appid": "小程序 appid",
  "content.miniprogram.page": "小程序页面路径",
  "content.miniprogram.title": "卡片标题",
  "content.miniprogram.cover_url": "封面图",
  "rule.name": "规则名称",
  "rule.scope.kind": "适用范围",
  "rule.scope.chat_ids": "群",
  "rule.scope.tag_ids": "群标签",
  "rule.scope.states": "渠道 state",
  "rule.channels": "发送渠道",
  "rule.content.text": "欢迎语内容",
  "rule.content.link": "链接卡片",
  "rule.content.image.pic_url": "图片地址",
  "rule.content.miniprogram": "小程序卡片",
  corp_id: "企业 ID",
  corp_name: "企业名称",
  agentid: "应用 AgentId",
  secret: "应用 Secret",
  callback_token: "回调 Token",
  encoding_aes_key: "EncodingAESKey",
  public_base_url: "对外访问地址",
  timezone: "时区",
  default_staff_role: "员工首次登录角色",
  chat_id_list: "群",
  remark: "备注",
  state: "state",
  room_base_name: "自动建群名称",
  scene: "场景",
};

const CODE_TEXT: Partial<Record<Code, string>> = {
  [Code.Unauthenticated]: "登录已失效，请重新登录",
  [Code.PermissionDenied]: "没有权限进行此操作",
  [Code.NotFound]: "要找的内容不存在",
  [Code.AlreadyExists]: "已经存在同名的记录",
  [Code.Unimplemented]: "该功能尚未上线",
  [Code.Unavailable]: "服务暂时不可用，请稍后重试",
  [Code.FailedPrecondition]: "当前状态下无法进行此操作",
};

/** An error as a sentence people can act on, naming the field when the server named one. */
export function describeError(error: unknown): string {
  if (error instanceof ApiProblem) {
    const field = error.field ? FIELD_NAMES[error.field] ?? error.field : "";
    if (error.code === "unauthenticated") return "用户名或密码错误，或登录已失效";
    return field ? `「${field}」有误：${error.message}` : error.message;
  }
  if (error instanceof ConnectError) {
    const field = error.metadata.get("scrm-error-field");
    const base = CODE_TEXT[error.code] ?? "操作失败";
    if (error.code === Code.InvalidArgument && field) return `「${FIELD_NAMES[field] ?? field}」有误：${error.rawMessage}`;
    return `${base}（${error.rawMessage}）`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** Role ids with their Chinese labels. */
export const ROLE_LABELS: Record<string, string> = {
  operator: "运营",
  support: "客服",
  store_manager: "店长",
  koc: "KOC",
  admin: "管理员",
};

/** Role ids by the value of the `scrm.identity.v1.Role` enum. */
export const ROLE_IDS: Record<number, string> = { 1: "operator", 2: "support", 3: "store_manager", 4: "koc", 5: "admin" };

/** The Chinese label of a `scrm.identity.v1.Role` enum value. */
export function roleLabel(role: number): string {
  return ROLE_LABELS[ROLE_IDS[role] ?? ""] ?? "未知";
}

/** Store ids typed as `1, 2` into the numbers the API takes; invalid parts are dropped. */
export function parseStoreIds(text: string): bigint[] {
  return text
    .split(/[,，\s]+/)
    .map((part) => part.trim())
    .filter((part) => /^\d+$/.test(part))
    .map((part) => BigInt(part));
}
