import { describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { checkDraft, draftOf, emptyDraft, pickCampaign, previewOf } from "./quickReply";
import { QuickReplyContentSchema, QuickReplySchema } from "../gen/scrm/customer/v1/customer_pb";
import { CampaignSchema } from "../gen/scrm/campaign/v1/campaign_pb";

describe("checkDraft", () => {
  it("turns a text draft into text content with its keywords", () => {
    const input = checkDraft({ ...emptyDraft(7n), title: " 开场白 ", text: "{客户昵称}您好", keywords: "问候，开场 欢迎" });
    expect(input).toMatchObject({ folderId: 7n, title: "开场白", keywords: ["问候", "开场", "欢迎"] });
    expect(input).toHaveProperty("content.case", "text");
    expect(input).toHaveProperty("content.value.text", "{客户昵称}您好");
  });

  it("names the first field at fault", () => {
    expect(checkDraft({ ...emptyDraft(), title: "x", text: "y" })).toEqual({ field: "folderId", problem: "请选择文件夹" });
    expect(checkDraft({ ...emptyDraft(1n), text: "y" })).toMatchObject({ field: "title" });
    expect(checkDraft({ ...emptyDraft(1n), title: "x" })).toMatchObject({ field: "text", problem: "请填写回复内容" });
    expect(checkDraft({ ...emptyDraft(1n), title: "x", kind: "image", url: "ftp://a" })).toMatchObject({ field: "url" });
    expect(checkDraft({ ...emptyDraft(1n), title: "x", kind: "link", url: "https://a.cn" })).toMatchObject({ field: "text" });
    const miniprogram = { ...emptyDraft(1n), title: "x", kind: "miniprogram" as const, appid: "wx1", text: "卡片", coverUrl: "https://c.cn/a.png" };
    expect(checkDraft({ ...miniprogram, page: "pages/index" })).toMatchObject({ field: "page" });
    expect(checkDraft({ ...miniprogram, page: "pages/index.html?from=scrm" })).toHaveProperty("content.case", "miniprogram");
    expect(checkDraft({ ...emptyDraft(1n), title: "x", text: "y", keywords: "1,2,3,4,5,6,7,8,9,10,11" })).toMatchObject({ field: "keywords" });
  });
});

describe("draftOf and previewOf", () => {
  it("round-trips a link reply and previews it", () => {
    const content = create(QuickReplyContentSchema, {
      content: { case: "link", value: { url: "https://shop.cn", title: "春季新品", description: "新品上架", coverUrl: "" } },
    });
    const reply = create(QuickReplySchema, { folderId: 3n, title: "新品", content, keywords: ["新品"] });
    const draft = draftOf(reply);
    expect(draft).toMatchObject({ kind: "link", url: "https://shop.cn", text: "春季新品", folderId: 3n, keywords: "新品" });
    expect(checkDraft(draft!)).toHaveProperty("content.value.title", "春季新品");
    expect(previewOf(reply)).toBe("[链接] 春季新品 https://shop.cn");
  });

  it("round-trips a coupon reply, which names its coupon definition", () => {
    const content = create(QuickReplyContentSchema, {
      content: { case: "coupon", value: { rewardDefinitionId: 7n, title: "满100减20", url: "https://shop.cn/coupons" } },
    });
    const reply = create(QuickReplySchema, { folderId: 3n, title: "发券", content });
    const draft = draftOf(reply);
    expect(draft).toMatchObject({ kind: "coupon", rewardDefinitionId: 7n, text: "满100减20", url: "https://shop.cn/coupons" });
    expect(checkDraft(draft!)).toHaveProperty("content.value.rewardDefinitionId", 7n);
    expect(checkDraft({ ...draft!, rewardDefinitionId: 0n })).toMatchObject({ field: "rewardDefinitionId" });
    expect(checkDraft({ ...draft!, url: "shop.cn" })).toMatchObject({ field: "url" });
    expect(previewOf(reply)).toBe("[优惠券] 满100减20");
  });

  it("edits campaign links with their campaign", () => {
    const value = { campaignId: 12n, url: "https://scrm.example.com/campaign/12", title: "裂变活动" };
    const content = create(QuickReplyContentSchema, { content: { case: "campaignLink", value } });
    expect(draftOf(create(QuickReplySchema, { content }))).toMatchObject({ kind: "campaignLink", campaignId: 12n, text: "裂变活动" });
  });
});

describe("campaign links", () => {
  const campaign = create(CampaignSchema, {
    id: 12n,
    name: "邀请好友得盲盒",
    description: "邀请 3 位好友得盲盒",
    landingUrl: "https://scrm.example.com/campaign/12",
  });

  it("fills the link, title and description from the picked campaign", () => {
    const draft = pickCampaign({ ...emptyDraft(1n), title: "裂变", kind: "campaignLink" }, campaign);
    expect(draft).toMatchObject({ campaignId: 12n, url: "https://scrm.example.com/campaign/12", text: "邀请好友得盲盒", description: "邀请 3 位好友得盲盒" });
    expect(pickCampaign({ ...draft, text: "自己写的标题" }, campaign).text).toBe("自己写的标题");
    const input = checkDraft(draft);
    expect(input).toHaveProperty("content.case", "campaignLink");
    expect(input).toHaveProperty("content.value.campaignId", 12n);
  });

  it("needs a campaign and a landing page", () => {
    const draft = { ...emptyDraft(1n), title: "裂变", kind: "campaignLink" as const, text: "卡片" };
    expect(checkDraft(draft)).toMatchObject({ field: "campaignId", problem: "请选择活动" });
    expect(checkDraft({ ...draft, campaignId: 12n })).toMatchObject({ field: "url" });
  });

  it("round-trips a stored campaign link", () => {
    const content = create(QuickReplyContentSchema, {
      content: { case: "campaignLink", value: { campaignId: 12n, url: "https://s.cn/campaign/12", title: "邀请有礼", description: "", coverUrl: "" } },
    });
    const reply = create(QuickReplySchema, { folderId: 3n, title: "裂变", content });
    expect(draftOf(reply)).toMatchObject({ kind: "campaignLink", campaignId: 12n, url: "https://s.cn/campaign/12", text: "邀请有礼" });
    expect(previewOf(reply)).toBe("[活动] 邀请有礼");
  });
});
