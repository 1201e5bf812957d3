import { describe, expect, it } from "vitest";
import { mount } from "@vue/test-utils";
import ElementPlus from "element-plus";
import { create } from "@bufbuild/protobuf";
import SyncProgress from "./SyncProgress.vue";
import { SyncProgressSchema, SyncState, SyncCountsSchema, SyncEntityCountsSchema } from "../gen/scrm/identity/v1/identity_pb";

function render(progress: ReturnType<typeof create<typeof SyncProgressSchema>> | null) {
  return mount(SyncProgress, { props: { progress }, global: { plugins: [ElementPlus] } });
}

describe("SyncProgress", () => {
  it("says nothing has started before the first message", () => {
    const wrapper = render(null);
    expect(wrapper.get("[data-test=sync-message]").text()).toBe("尚未开始同步");
  });

  it("shows the server's message and percentage while running", () => {
    const wrapper = render(create(SyncProgressSchema, { state: SyncState.RUNNING, percent: 42.4, message: "正在同步客户（120/500）" }));
    expect(wrapper.get("[data-test=sync-message]").text()).toBe("正在同步客户（120/500）");
    expect(wrapper.get("[data-test=sync-bar]").text()).toContain("42%");
  });

  it("reports success with the run number and counts", () => {
    const counts = create(SyncCountsSchema, { externalContacts: create(SyncEntityCountsSchema, { seen: 500n }) });
    const wrapper = render(create(SyncProgressSchema, { state: SyncState.SUCCEEDED, percent: 100, syncRunId: 3n, apiCalls: 81n, counts }));
    expect(wrapper.get("[data-test=sync-message]").text()).toBe("同步完成（第 3 次同步，81 次企业微信接口调用）");
    expect(wrapper.text()).toContain("500");
  });

  it("names the error of a failed run", () => {
    const wrapper = render(create(SyncProgressSchema, { state: SyncState.FAILED, errorMessage: "gettoken: errcode 40001" }));
    expect(wrapper.get("[data-test=sync-message]").text()).toBe("同步失败：gettoken: errcode 40001");
  });
});
