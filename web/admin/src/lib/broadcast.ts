// The broadcast composer's form, its checks before sending, and the request it becomes.
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  BroadcastAttachmentSchema,
  BroadcastMsgType,
  type BroadcastAttachment,
  type BroadcastTargetFilter,
} from "../gen/scrm/messaging/v1/messaging_pb";

/** How far ahead a broadcast may be scheduled, as the server allows: 30 days. */
export const MAX_AHEAD_MS = 30 * 24 * 3_600_000;

/** What the composer edits. */
export interface BroadcastForm {
  name: string;
  /** `ids`: the picked groups; `filter`: the groups a filter selects when the broadcast starts. */
  targetMode: "ids" | "filter";
  groupIds: bigint[];
  msgType: BroadcastMsgType;
  content: string;
  /** Image URL (image), or cover URL (link, mini-program). */
  picUrl: string;
  /** Card title (link, mini-program). */
  title: string;
  /** Link description. */
  desc: string;
  /** Link target. */
  url: string;
  /** Mini-program appid. */
  appid: string;
  /** Mini-program page path. */
  page: string;
  /** Send now, or at `scheduledAt`. */
  sendNow: boolean;
  scheduledAt: Date | null;
}

/** An empty composer. */
export function emptyForm(): BroadcastForm {
  return {
    name: "",
    targetMode: "ids",
    groupIds: [],
    msgType: BroadcastMsgType.TEXT,
    content: "",
    picUrl: "",
    title: "",
    desc: "",
    url: "",
    appid: "",
    page: "",
    sendNow: false,
    scheduledAt: null,
  };
}

/** The form's attachment for its message type; text has none. */
export function attachmentsOf(form: BroadcastForm): BroadcastAttachment[] {
  switch (form.msgType) {
    case BroadcastMsgType.IMAGE:
      return [create(BroadcastAttachmentSchema, { body: { case: "image", value: { picUrl: form.picUrl.trim() } } })];
    case BroadcastMsgType.LINK:
      return [
        create(BroadcastAttachmentSchema, {
          body: { case: "link", value: { title: form.title.trim(), desc: form.desc.trim(), url: form.url.trim(), picurl: form.picUrl.trim() } },
        }),
      ];
    case BroadcastMsgType.MINIPROGRAM:
      return [
        create(BroadcastAttachmentSchema, {
          body: { case: "miniprogram", value: { title: form.title.trim(), appid: form.appid.trim(), page: form.page.trim(), picUrl: form.picUrl.trim() } },
        }),
      ];
    default:
      return [];
  }
}

/** A problem with the form, naming the field as the composer labels it. */
export interface FormProblem {
  field: string;
  message: string;
}

/** Why the chosen send time is not allowed, or null when it is. */
export function scheduleProblem(form: Pick<BroadcastForm, "sendNow" | "scheduledAt">, nowMs: number): string | null {
  if (form.sendNow) return null;
  if (!form.scheduledAt) return "请选择发送时间，或改为立即发送";
  const at = form.scheduledAt.getTime();
  if (at <= nowMs) return "发送时间已过，请选择现在之后的时间";
  if (at > nowMs + MAX_AHEAD_MS) return "最多只能提前 30 天定时发送";
  return null;
}

/** Everything the composer can tell before asking the server; empty when the form can be sent. */
export function formProblems(form: BroadcastForm, filterConstrains: boolean, nowMs: number): FormProblem[] {
  const problems: FormProblem[] = [];
  if (form.targetMode === "ids" && form.groupIds.length === 0) problems.push({ field: "发送对象", message: "请至少选择一个群" });
  if (form.targetMode === "filter" && !filterConstrains) problems.push({ field: "发送对象", message: "请至少设置一个筛选条件" });
  if (form.msgType === BroadcastMsgType.TEXT && !form.content.trim()) problems.push({ field: "消息内容", message: "文本消息的内容不能为空" });
  if (new TextEncoder().encode(form.content).length > 4000) problems.push({ field: "消息内容", message: "内容不能超过 4000 字节" });
  if (form.msgType === BroadcastMsgType.IMAGE && !form.picUrl.trim()) problems.push({ field: "图片地址", message: "请填写图片地址" });
  if (form.msgType === BroadcastMsgType.LINK && !form.url.trim()) problems.push({ field: "链接地址", message: "请填写链接地址" });
  if (form.msgType === BroadcastMsgType.MINIPROGRAM) {
    if (!form.title.trim()) problems.push({ field: "小程序标题", message: "请填写小程序标题" });
    if (!form.appid.trim()) problems.push({ field: "小程序 AppID", message: "请填写小程序 AppID" });
    if (!form.page.trim()) problems.push({ field: "小程序页面", message: "请填写小程序页面路径" });
  }
  const schedule = scheduleProblem(form, nowMs);
  if (schedule) problems.push({ field: "发送时间", message: schedule });
  return problems;
}

/** The fields CreateBroadcast and PreviewBroadcast share. */
export function draftOf(form: BroadcastForm, filter: Omit<BroadcastTargetFilter, "$typeName" | "$unknown">) {
  return {
    targets: form.targetMode === "ids" ? { groupIds: [...form.groupIds] } : { filter },
    msgType: form.msgType,
    content: form.content,
    attachments: attachmentsOf(form),
    scheduledAt: form.sendNow || !form.scheduledAt ? undefined : timestampFromMs(form.scheduledAt.getTime()),
  };
}

/** Field paths of the server's validation issues, as the composer labels them. */
const ISSUE_FIELDS: [RegExp, string][] = [
  [/^targets/, "发送对象"],
  [/^msg_type/, "消息类型"],
  [/^content/, "消息内容"],
  [/^attachments/, "附件"],
  [/^scheduled_at/, "发送时间"],
  [/^name/, "名称"],
];

/** The composer's label of a server field path such as `targets.group_ids[3]`. */
export function issueFieldLabel(field: string): string {
  return ISSUE_FIELDS.find(([pattern]) => pattern.test(field))?.[1] ?? field;
}
