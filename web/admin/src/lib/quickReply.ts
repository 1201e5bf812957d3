// A quick reply as the editor holds it (one flat draft for every kind), and its conversion to and from the
// contract's QuickReplyContent, checked the way the service checks it so errors show before saving.
import type { QuickReply, QuickReplyContent } from "../gen/scrm/customer/v1/customer_pb";
import type { Campaign } from "../gen/scrm/campaign/v1/campaign_pb";

/** Kinds the editor can write. */
export type EditableKind = "text" | "image" | "link" | "miniprogram" | "coupon" | "campaignLink";

/** The variables a text reply may hold, filled for each customer and staff member when sent. */
export const REPLY_VARIABLES = ["{客户昵称}", "{员工姓名}"];

/** Everything the editor form edits. */
export interface ReplyDraft {
  folderId: bigint | undefined;
  title: string;
  kind: EditableKind;
  text: string;
  url: string;
  description: string;
  coverUrl: string;
  appid: string;
  page: string;
  /** The coupon definition (rewards service) a coupon reply issues on send; 0n when none is picked. */
  rewardDefinitionId: bigint;
  keywords: string;
  /** The campaign of a campaign-link reply. */
  campaignId: bigint | undefined;
}

/** An empty draft in `folderId`. */
export function emptyDraft(folderId?: bigint): ReplyDraft {
  return {
    folderId,
    title: "",
    kind: "text",
    text: "",
    url: "",
    description: "",
    coverUrl: "",
    appid: "",
    page: "",
    rewardDefinitionId: 0n,
    keywords: "",
    campaignId: undefined,
  };
}

/** The draft of a stored reply, for editing; null for kinds the editor cannot write. */
export function draftOf(reply: QuickReply): ReplyDraft | null {
  const draft = { ...emptyDraft(reply.folderId), title: reply.title, keywords: reply.keywords.join("，") };
  const content = reply.content?.content;
  switch (content?.case) {
    case "text":
      return { ...draft, kind: "text", text: content.value.text };
    case "image":
      return { ...draft, kind: "image", url: content.value.imageUrl };
    case "link":
      return { ...draft, kind: "link", url: content.value.url, description: content.value.description, coverUrl: content.value.coverUrl, text: content.value.title };
    case "miniprogram":
      return { ...draft, kind: "miniprogram", appid: content.value.appid, page: content.value.page, coverUrl: content.value.coverUrl, text: content.value.title };
    case "coupon":
      return {
        ...draft,
        kind: "coupon",
        rewardDefinitionId: content.value.rewardDefinitionId,
        url: content.value.url,
        description: content.value.description,
        coverUrl: content.value.coverUrl,
        text: content.value.title,
      };
    case "campaignLink":
      return {
        ...draft,
        kind: "campaignLink",
        campaignId: content.value.campaignId,
        url: content.value.url,
        text: content.value.title,
        description: content.value.description,
        coverUrl: content.value.coverUrl,
      };
    default:
      return null;
  }
}

/** A field problem: which form field, and why in plain Chinese. */
export interface DraftProblem {
  field: keyof ReplyDraft;
  problem: string;
}

/** What CreateQuickReply/UpdateQuickReply take. */
export interface ReplyInput {
  folderId: bigint;
  title: string;
  content: QuickReplyContent["content"];
  keywords: string[];
}

const isWebUrl = (value: string) => /^https?:\/\/\S+$/.test(value);

/** The draft as request fields, or the first field at fault. */
export function checkDraft(draft: ReplyDraft): ReplyInput | DraftProblem {
  const title = draft.title.trim();
  if (draft.folderId === undefined) return { field: "folderId", problem: "请选择文件夹" };
  if (!title) return { field: "title", problem: "请填写标题" };
  if ([...title].length > 50) return { field: "title", problem: "标题不能超过 50 个字" };
  const keywords = draft.keywords.split(/[,，\s]+/).map((word) => word.trim()).filter(Boolean);
  if (keywords.length > 10) return { field: "keywords", problem: "关键词最多 10 个" };
  const content = contentOf(draft);
  if ("problem" in content) return content;
  return { folderId: draft.folderId, title, content, keywords };
}

function contentOf(draft: ReplyDraft): QuickReplyContent["content"] | DraftProblem {
  const text = draft.text.trim();
  const url = draft.url.trim();
  const coverUrl = draft.coverUrl.trim();
  switch (draft.kind) {
    case "text":
      if (!text) return { field: "text", problem: "请填写回复内容" };
      if ([...text].length > 4000) return { field: "text", problem: "回复内容不能超过 4000 个字" };
      return { case: "text", value: { $typeName: "scrm.customer.v1.TextReplyContent", text } };
    case "image":
      if (!isWebUrl(url)) return { field: "url", problem: "请填写以 http:// 或 https:// 开头的图片地址" };
      return { case: "image", value: { $typeName: "scrm.customer.v1.ImageReplyContent", imageUrl: url } };
    case "link":
      if (!isWebUrl(url)) return { field: "url", problem: "请填写以 http:// 或 https:// 开头的链接" };
      if (!text) return { field: "text", problem: "请填写卡片标题" };
      return {
        case: "link",
        value: { $typeName: "scrm.customer.v1.LinkReplyContent", url, title: text, description: draft.description.trim(), coverUrl },
      };
    case "miniprogram":
      if (!draft.appid.trim()) return { field: "appid", problem: "请填写小程序 appid" };
      if (!/\.html(\?.*)?$/.test(draft.page.trim())) return { field: "page", problem: "小程序页面路径须以 .html 结尾，如 pages/index.html" };
      if (!text) return { field: "text", problem: "请填写卡片标题" };
      if (!isWebUrl(coverUrl)) return { field: "coverUrl", problem: "请填写以 http:// 或 https:// 开头的封面图地址" };
      return {
        case: "miniprogram",
        value: { $typeName: "scrm.customer.v1.MiniProgramReplyContent", appid: draft.appid.trim(), page: draft.page.trim(), title: text, coverUrl },
      };
    case "coupon":
      if (draft.rewardDefinitionId <= 0n) return { field: "rewardDefinitionId", problem: "请选择要发放的优惠券" };
      if (!text) return { field: "text", problem: "请填写卡片标题" };
      if (!isWebUrl(url)) return { field: "url", problem: "请填写以 http:// 或 https:// 开头的领券页面地址" };
      return {
        case: "coupon",
        value: {
          $typeName: "scrm.customer.v1.CouponReplyContent",
          rewardDefinitionId: draft.rewardDefinitionId,
          title: text,
          description: draft.description.trim(),
          coverUrl,
          url,
          },
        };
    case "campaignLink":
      if (!draft.campaignId) return { field: "campaignId", problem: "请选择活动" };
      if (!isWebUrl(url)) return { field: "url", problem: "活动没有落地页地址，请填写以 http:// 或 https:// 开头的链接" };
      if (!text) return { field: "text", problem: "请填写卡片标题" };
      return {
        case: "campaignLink",
        value: {
          $typeName: "scrm.customer.v1.CampaignLinkReplyContent",
          campaignId: draft.campaignId,
          url,
          title: text,
          description: draft.description.trim(),
          coverUrl,
        },
      };
  }
}

/**
 * The draft with `campaign` picked for a campaign-link reply: its landing page as the link, and its name and
 * rules as the card's title and description unless they were already written.
 */
export function pickCampaign(draft: ReplyDraft, campaign: Campaign): ReplyDraft {
  return {
    ...draft,
    campaignId: campaign.id,
    url: campaign.landingUrl || draft.url,
    text: draft.text.trim() ? draft.text : campaign.name,
    description: draft.description.trim() ? draft.description : [...campaign.description].slice(0, 100).join(""),
  };
}

/** A one-line preview of a reply's content for lists. */
export function previewOf(reply: QuickReply): string {
  const content = reply.content?.content;
  switch (content?.case) {
    case "text":
      return content.value.text;
    case "image":
      return `[图片] ${content.value.imageUrl}`;
    case "link":
      return `[链接] ${content.value.title} ${content.value.url}`;
    case "miniprogram":
      return `[小程序] ${content.value.title}（${content.value.page}）`;
    case "coupon":
      return `[优惠券] ${content.value.title}`;
    case "campaignLink":
      return `[活动] ${content.value.title}`;
    default:
      return "";
  }
}
