import { describe, expect, it, vi } from "vitest";
import { flushPromises, mount } from "@vue/test-utils";
import ElementPlus from "element-plus";
import { create } from "@bufbuild/protobuf";
import LevelTiersEditor from "./LevelTiersEditor.vue";
import OrderImportReport from "./OrderImportReport.vue";
import QuickReplyForm from "./QuickReplyForm.vue";
import CustomerNotes from "./CustomerNotes.vue";
import { emptyDraft } from "../lib/quickReply";
import { NoteSchema, QuickReplyFolderSchema, QuickReplyScope } from "../gen/scrm/customer/v1/customer_pb";
import { RewardDefinitionSchema, RewardKind } from "../gen/scrm/rewards/v1/rewards_pb";
import { CampaignSchema } from "../gen/scrm/campaign/v1/campaign_pb";

const notesApi = vi.hoisted(() => ({
  listCustomerNotes: vi.fn(),
  addCustomerNote: vi.fn(),
  deleteCustomerNote: vi.fn(),
}));
const rewardsApi = vi.hoisted(() => ({ listRewardDefinitions: vi.fn(), getRewardDefinition: vi.fn() }));
vi.mock("../lib/api", async (original) => ({ ...(await original<object>()), customer: notesApi, rewards: rewardsApi }));

const global = { plugins: [ElementPlus] };
// Mounting Element Plus forms is slow on a loaded machine; the default 5 s is too tight there.
vi.setConfig({ testTimeout: 20_000 });

describe("LevelTiersEditor", () => {
  it("shows the stored tiers in yuan and emits the edited ones ranked", async () => {
    const wrapper = mount(LevelTiersEditor, { props: { tiers: [{ name: "银卡", minSpendFen: 50000n }] }, global });
    await flushPromises();
    expect((wrapper.get("input[data-test=tier-min-0]").element as HTMLInputElement).value).toBe("500");
    await wrapper.get("[data-test=tier-add]").trigger("click");
    await wrapper.get("input[data-test=tier-name-1]").setValue("金卡");
    await wrapper.get("input[data-test=tier-min-1]").setValue("2000");
    await wrapper.get("[data-test=tiers-save]").trigger("click");
    expect(wrapper.emitted("save")?.[0]).toEqual([
      [
        { level: 1, name: "银卡", minSpendFen: 50000n },
        { level: 2, name: "金卡", minSpendFen: 200000n },
      ],
    ]);
  });

  it("refuses thresholds that do not increase, naming the row", async () => {
    const wrapper = mount(LevelTiersEditor, { props: { tiers: [{ name: "银卡", minSpendFen: 50000n }] }, global });
    await wrapper.get("[data-test=tier-add]").trigger("click");
    await wrapper.get("input[data-test=tier-name-1]").setValue("金卡");
    await wrapper.get("input[data-test=tier-min-1]").setValue("100");
    await wrapper.get("[data-test=tiers-save]").trigger("click");
    await flushPromises();
    expect(wrapper.emitted("save")).toBeUndefined();
    expect(wrapper.get("[data-test=tiers-problem]").text()).toContain("第 2 级的消费门槛必须高于第 1 级");
  });

  it("says what to do when no level exists", () => {
    const wrapper = mount(LevelTiersEditor, { props: { tiers: [] }, global });
    expect(wrapper.text()).toContain("点击「添加等级」");
  });
});

describe("OrderImportReport", () => {
  const report = {
    received: 3, accepted: 2, created: 2, updated: 0, unchanged: 0, rejected: 1, unmatched: 1,
    errors: [{ rowNumber: 3, orderNo: "SO-3", field: "amount", reason: "金额 `abc` 格式不正确" }],
    errorsTruncated: false, dryRun: false,
  };

  it("sums up and lists each refused row with its number, column and reason", async () => {
    const wrapper = mount(OrderImportReport, { props: { report }, global });
    expect(wrapper.text()).toContain("导入完成：2 行可导入，1 行被拒绝");
    await flushPromises();
    const row = wrapper.get("[data-test=import-errors]").text();
    expect(row).toContain("3");
    expect(row).toContain("SO-3");
    expect(row).toContain("实付金额 amount");
    expect(row).toContain("格式不正确");
  });

  it("tells a dry run apart", () => {
    const wrapper = mount(OrderImportReport, { props: { report: { ...report, rejected: 0, errors: [], dryRun: true } }, global });
    expect(wrapper.text()).toContain("校验完成（未保存）：全部 2 行均可导入");
  });
});

describe("QuickReplyForm", () => {
  const folders = [create(QuickReplyFolderSchema, { id: 1n, name: "开场", scope: QuickReplyScope.COMPANY })];

  it("inserts variables and emits text content", async () => {
    const wrapper = mount(QuickReplyForm, { props: { folders, initial: emptyDraft(1n) }, global });
    await wrapper.get("input[data-test=reply-title]").setValue("问候");
    await wrapper.get("textarea[data-test=reply-text]").setValue("您好");
    await wrapper.get("[data-test='insert-{客户昵称}']").trigger("click");
    await wrapper.get("[data-test=reply-save]").trigger("click");
    const [input] = wrapper.emitted("submit")![0] as [{ title: string; content: { case: string; value: { text: string } } }];
    expect(input.title).toBe("问候");
    expect(input.content).toMatchObject({ case: "text", value: { text: "您好{客户昵称}" } });
  });

  it("offers the coupon kind with a picker of coupon definitions", async () => {
    const coupon = create(RewardDefinitionSchema, {
      id: 7n,
      name: "满100减20券",
      kind: RewardKind.COUPON,
      config: { case: "coupon", value: { faceValueFen: 2000n, thresholdFen: 10000n } },
    });
    rewardsApi.listRewardDefinitions.mockResolvedValue({ definitions: [coupon], nextPageToken: "" });
    const initial = { ...emptyDraft(1n), kind: "coupon" as const, title: "发券" };
    const wrapper = mount(QuickReplyForm, { props: { folders, initial }, global });
    await flushPromises();
    expect(rewardsApi.listRewardDefinitions).toHaveBeenCalledWith(expect.objectContaining({ kind: RewardKind.COUPON }));
    await wrapper.get("[data-test=reply-save]").trigger("click");
    await flushPromises();
    expect(wrapper.get("[data-test=reply-problem]").text()).toBe("请选择要发放的优惠券");
    const picker = wrapper.findAllComponents({ name: "ElSelect" }).find((select) => select.attributes("data-test") === "reply-coupon");
    expect(picker?.text() ?? "").not.toContain("加载失败");
    await picker!.vm.$emit("update:modelValue", 7n);
    await picker!.vm.$emit("change", 7n);
    await wrapper.get("input[data-test=reply-url]").setValue("https://shop.cn/coupons");
    await wrapper.get("[data-test=reply-save]").trigger("click");
    const [input] = wrapper.emitted("submit")![0] as [{ content: { case: string; value: Record<string, unknown> } }];
    expect(input.content).toMatchObject({
      case: "coupon",
      value: { rewardDefinitionId: 7n, title: "满100减20券", url: "https://shop.cn/coupons" },
    });
  });

  it("picks a campaign for a campaign link and fills its landing page", async () => {
    const campaigns = [
      create(CampaignSchema, { id: 12n, name: "邀请好友得盲盒", landingUrl: "https://scrm.example.com/campaign/12" }),
    ];
    const initial = { ...emptyDraft(1n), kind: "campaignLink" as const, title: "裂变" };
    const wrapper = mount(QuickReplyForm, { props: { folders, initial, campaigns }, global });
    const picker = wrapper.findAllComponents({ name: "ElSelect" }).find((select) => select.attributes("data-test") === "reply-campaign");
    picker!.vm.$emit("update:modelValue", 12n);
    await flushPromises();
    expect((wrapper.get("input[data-test=reply-campaign-url]").element as HTMLInputElement).value).toBe("https://scrm.example.com/campaign/12");
    await wrapper.get("[data-test=reply-save]").trigger("click");
    const [input] = wrapper.emitted("submit")![0] as [{ content: { case: string; value: object } }];
    expect(input.content).toMatchObject({
      case: "campaignLink",
      value: { campaignId: 12n, url: "https://scrm.example.com/campaign/12", title: "邀请好友得盲盒" },
    });
  });

  it("shows the field at fault instead of saving", async () => {
    const wrapper = mount(QuickReplyForm, { props: { folders, initial: emptyDraft(1n) }, global });
    await wrapper.get("[data-test=reply-save]").trigger("click");
    await flushPromises();
    expect(wrapper.emitted("submit")).toBeUndefined();
    expect(wrapper.get("[data-test=reply-problem]").text()).toBe("请填写标题");
  });
});

describe("CustomerNotes", () => {
  it("lists notes and adds a new one on top", async () => {
    const old = create(NoteSchema, { id: 1n, content: "上次来店试穿", authorName: "张三" });
    notesApi.listCustomerNotes.mockResolvedValue({ notes: [old], nextPageToken: "" });
    notesApi.addCustomerNote.mockResolvedValue({ note: create(NoteSchema, { id: 2n, content: "想要春季新品", authorName: "李四" }) });
    const wrapper = mount(CustomerNotes, { props: { externalUserid: "wmA" }, global });
    await flushPromises();
    expect(notesApi.listCustomerNotes).toHaveBeenCalledWith(expect.objectContaining({ externalUserid: "wmA" }));
    await wrapper.get("textarea[data-test=note-input]").setValue(" 想要春季新品 ");
    await wrapper.get("[data-test=note-add]").trigger("click");
    await flushPromises();
    expect(notesApi.addCustomerNote).toHaveBeenCalledWith({ externalUserid: "wmA", content: "想要春季新品" });
    const notes = wrapper.findAll("[data-test=note]").map((note) => note.text());
    expect(notes[0]).toContain("想要春季新品");
    expect(notes[1]).toContain("上次来店试穿");
  });

  it("says how to start when there is no note", async () => {
    notesApi.listCustomerNotes.mockResolvedValue({ notes: [], nextPageToken: "" });
    const wrapper = mount(CustomerNotes, { props: { externalUserid: "wmB" }, global });
    await flushPromises();
    expect(wrapper.text()).toContain("还没有跟进记录");
  });
});
