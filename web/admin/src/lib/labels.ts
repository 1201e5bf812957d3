// Chinese labels of the group and broadcast enums, and the small figures shown beside them.
import { ActivityBand, AlertKind, GroupAlertState, GroupMemberType, JoinScene, WelcomeCoverage } from "../gen/scrm/group/v1/group_pb";
import { BroadcastGroupOutcome, BroadcastMsgType, BroadcastState } from "../gen/scrm/messaging/v1/messaging_pb";

/** Activity bands (活跃度) by `scrm.group.v1.ActivityBand` value. */
export const BAND_LABELS: Record<number, string> = {
  [ActivityBand.NEW]: "新群",
  [ActivityBand.DEAD]: "死群",
  [ActivityBand.LOW]: "低活跃",
  [ActivityBand.MEDIUM]: "中活跃",
  [ActivityBand.HIGH]: "高活跃",
};

/** Whether a group carries its current welcome template, by `scrm.group.v1.WelcomeCoverage` value. */
export const WELCOME_COVERAGE_LABELS: Record<number, string> = {
  [WelcomeCoverage.CURRENT]: "已是当前模板",
  [WelcomeCoverage.OUTDATED]: "模板待更新",
  [WelcomeCoverage.MISSING]: "缺少模板",
  [WelcomeCoverage.NOT_APPLICABLE]: "无需模板",
};

/** Alert states of a group by `scrm.group.v1.GroupAlertState` value. */
export const ALERT_STATE_LABELS: Record<number, string> = {
  [GroupAlertState.CLEAR]: "正常",
  [GroupAlertState.ACKNOWLEDGED]: "预警已处理",
  [GroupAlertState.ALERTING]: "预警中",
};

/** Alert kinds by `scrm.group.v1.AlertKind` value. */
export const ALERT_KIND_LABELS: Record<number, string> = {
  [AlertKind.DEAD_GROUP]: "死群",
  [AlertKind.ACTIVITY_DROP]: "活跃度下降",
  [AlertKind.MEMBER_LOSS]: "成员流失",
  [AlertKind.SPAM_BURST]: "疑似刷屏",
};

/** How a member joined, by `scrm.group.v1.JoinScene` value. */
export const JOIN_SCENE_LABELS: Record<number, string> = {
  [JoinScene.UNSPECIFIED]: "未知",
  [JoinScene.DIRECT_INVITE]: "成员直接邀请",
  [JoinScene.INVITE_LINK]: "邀请链接",
  [JoinScene.QR_CODE]: "扫描群二维码",
};

/** Member kinds by `scrm.group.v1.GroupMemberType` value. */
export const MEMBER_TYPE_LABELS: Record<number, string> = {
  [GroupMemberType.UNSPECIFIED]: "未知",
  [GroupMemberType.STAFF]: "员工",
  [GroupMemberType.CUSTOMER]: "客户",
};

/** Broadcast message types by `scrm.messaging.v1.BroadcastMsgType` value. */
export const MSG_TYPE_LABELS: Record<number, string> = {
  [BroadcastMsgType.TEXT]: "文本",
  [BroadcastMsgType.IMAGE]: "图片",
  [BroadcastMsgType.LINK]: "链接",
  [BroadcastMsgType.MINIPROGRAM]: "小程序",
};

/** Broadcast states by `scrm.messaging.v1.BroadcastState` value, with the tag colour they show in. */
export const BROADCAST_STATE: Record<number, { label: string; tag: "info" | "primary" | "warning" | "success" | "danger" }> = {
  [BroadcastState.SCHEDULED]: { label: "待发送", tag: "info" },
  [BroadcastState.FANNING_OUT]: { label: "正在创建任务", tag: "primary" },
  [BroadcastState.AWAITING_CONFIRMATION]: { label: "等待群主确认", tag: "warning" },
  [BroadcastState.COMPLETED]: { label: "已完成", tag: "success" },
  [BroadcastState.CANCELLED]: { label: "已取消", tag: "info" },
  [BroadcastState.FAILED]: { label: "失败", tag: "danger" },
};

/** Per-group broadcast outcomes by `scrm.messaging.v1.BroadcastGroupOutcome` value. */
export const OUTCOME_LABELS: Record<number, string> = {
  [BroadcastGroupOutcome.PENDING]: "待创建任务",
  [BroadcastGroupOutcome.AWAITING_CONFIRMATION]: "待群主确认",
  [BroadcastGroupOutcome.DELIVERED]: "已送达",
  [BroadcastGroupOutcome.UNCONFIRMED]: "群主未确认",
  [BroadcastGroupOutcome.QUOTA_EXCEEDED]: "超出接收上限",
  [BroadcastGroupOutcome.NOT_FRIEND]: "非好友",
  [BroadcastGroupOutcome.ERROR]: "发送出错",
  [BroadcastGroupOutcome.CANCELLED]: "已取消",
  [BroadcastGroupOutcome.GROUP_DISMISSED]: "群已解散",
};

/** Basis points (10000 = 100%) as a percentage with one decimal, e.g. `99.9%`. */
export function formatBps(bps: number): string {
  return `${(bps / 100).toFixed(1)}%`;
}
