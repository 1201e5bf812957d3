// Chinese labels and small conversions for the customer pages: enums of scrm.customer.v1, money in fen.
import {
  AddWay,
  CustomerStatus,
  FollowStatus,
  Gender,
  OrderStatus,
  QuickReplyKind,
  QuickReplyScope,
} from "../gen/scrm/customer/v1/customer_pb";

/** Fen as yuan with two decimals, e.g. `¥1,280.50`. */
export function formatFen(fen: bigint | number): string {
  const value = Number(fen) / 100;
  return `¥${value.toLocaleString("zh-CN", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

/** Yuan typed by a user (`128.5`) as fen, or null when it is not a non-negative amount with ≤ 2 decimals. */
export function parseYuan(text: string): bigint | null {
  const match = /^\s*(\d+)(?:\.(\d{1,2}))?\s*$/.exec(text);
  if (!match) return null;
  return BigInt(match[1]) * 100n + BigInt((match[2] ?? "").padEnd(2, "0"));
}

/** Customer states. */
export const CUSTOMER_STATUS_LABELS: Record<number, string> = {
  [CustomerStatus.ACTIVE]: "正常",
  [CustomerStatus.CHURNED]: "已流失",
  [CustomerStatus.REMOVED]: "已删除",
};

/** Follow-relation states. */
export const FOLLOW_STATUS_LABELS: Record<number, string> = {
  [FollowStatus.ACTIVE]: "跟进中",
  [FollowStatus.CUSTOMER_DELETED_STAFF]: "客户已删除员工",
  [FollowStatus.STAFF_DELETED_CUSTOMER]: "员工已删除客户",
  [FollowStatus.TRANSFERRED]: "已转接",
  [FollowStatus.GONE]: "已失效",
};

/** Genders as WeCom reports them. */
export const GENDER_LABELS: Record<number, string> = { [Gender.MALE]: "男", [Gender.FEMALE]: "女" };

/** WeCom's add_way codes. */
export const ADD_WAY_LABELS: Record<number, string> = {
  [AddWay.QR_CODE]: "扫描二维码",
  [AddWay.MOBILE_SEARCH]: "搜索手机号",
  [AddWay.BUSINESS_CARD]: "名片分享",
  [AddWay.GROUP_CHAT]: "群聊",
  [AddWay.PHONE_CONTACTS]: "手机通讯录",
  [AddWay.WECHAT_CONTACTS]: "微信联系人",
  [AddWay.THIRD_PARTY_APP]: "第三方应用",
  [AddWay.EMAIL_SEARCH]: "搜索邮箱",
  [AddWay.WECHAT_CHANNELS]: "视频号",
  [AddWay.SCHEDULE]: "日程参与人",
  [AddWay.MEETING]: "会议参与人",
  [AddWay.WECHAT_FRIEND]: "微信好友",
  [AddWay.SMART_HARDWARE]: "智慧硬件客服",
  [AddWay.ON_SITE_SERVICE]: "上门服务客服",
  [AddWay.ACQUISITION_LINK]: "获客链接",
  [AddWay.INTERNAL_SHARE]: "内部成员共享",
  [AddWay.ASSIGNED]: "管理员分配",
};

/** Order states. */
export const ORDER_STATUS_LABELS: Record<number, string> = {
  [OrderStatus.PENDING_PAYMENT]: "待支付",
  [OrderStatus.PAID]: "已支付",
  [OrderStatus.PARTIALLY_REFUNDED]: "部分退款",
  [OrderStatus.REFUNDED]: "已退款",
  [OrderStatus.CANCELLED]: "已取消",
};

/** Quick-reply kinds. */
export const REPLY_KIND_LABELS: Record<number, string> = {
  [QuickReplyKind.TEXT]: "文本",
  [QuickReplyKind.IMAGE]: "图片",
  [QuickReplyKind.LINK]: "链接",
  [QuickReplyKind.MINIPROGRAM]: "小程序",
  [QuickReplyKind.COUPON]: "优惠券",
  [QuickReplyKind.CAMPAIGN_LINK]: "活动链接",
};

/** Quick-reply libraries. */
export const REPLY_SCOPE_LABELS: Record<number, string> = {
  [QuickReplyScope.COMPANY]: "企业话术",
  [QuickReplyScope.PERSONAL]: "个人话术",
};

/** A label from one of the tables above, `未知` for values it lacks. */
export function label(table: Record<number, string>, value: number): string {
  return table[value] ?? "未知";
}
