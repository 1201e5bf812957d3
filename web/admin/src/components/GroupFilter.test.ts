import { describe, expect, it } from "vitest";
import { mount } from "@vue/test-utils";
import ElementPlus from "element-plus";
import { create } from "@bufbuild/protobuf";
import GroupFilter from "./GroupFilter.vue";
import { ActivityBand, GroupAlertState, GroupTagSchema, WelcomeCoverage } from "../gen/scrm/group/v1/group_pb";
import { emptyFilter, type GroupFilterModel } from "../lib/groupFilter";

const tags = [
  create(GroupTagSchema, { id: 1n, name: "宝妈群", category: "群类型" }),
  create(GroupTagSchema, { id: 2n, name: "会员群" }),
];

function render(modelValue: GroupFilterModel, forBroadcast = false) {
  return mount(GroupFilter, {
    props: { modelValue, tags, forBroadcast },
    global: { plugins: [ElementPlus] },
  });
}

describe("GroupFilter", () => {
  it("says it selects every group when nothing is set", () => {
    expect(render(emptyFilter()).get("[data-test=filter-summary]").text()).toBe("全部社群");
  });

  it("summarises every criterion in one sentence, tags by name", () => {
    const model = {
      ...emptyFilter(),
      owners: "zhangsan，lisi",
      stores: "7, x",
      tagIds: [1n, 2n],
      bands: [ActivityBand.DEAD, ActivityBand.LOW],
      alertStates: [GroupAlertState.ALERTING],
      name: " 会员 ",
      welcomeCoverages: [WelcomeCoverage.MISSING],
    };
    expect(render(model).get("[data-test=filter-summary]").text()).toBe(
      "筛选：群主 zhangsan、lisi，门店 7，标签 宝妈群 或 会员群，活跃度 死群、低活跃，预警 预警中，欢迎语模板 缺少模板，名称含「会员」",
    );
  });

  it("joins tags with 且 when every tag is required", () => {
    const model = { ...emptyFilter(), tagIds: [1n, 2n], matchAllTags: true };
    expect(render(model).get("[data-test=filter-summary]").text()).toBe("筛选：标签 宝妈群 且 会员群");
    expect(render(model).find("[data-test=filter-match-all]").exists()).toBe(true);
    expect(render({ ...model, tagIds: [1n] }).find("[data-test=filter-match-all]").exists()).toBe(false);
  });

  it("hides what broadcasts cannot target by, and leaves it out of the summary", () => {
    const model = {
      ...emptyFilter(),
      name: "会员",
      alertStates: [GroupAlertState.ALERTING],
      welcomeCoverages: [WelcomeCoverage.MISSING],
      owners: "zhangsan",
    };
    const wrapper = render(model, true);
    expect(wrapper.find("[data-test=filter-name]").exists()).toBe(false);
    expect(wrapper.find("[data-test=filter-alerts]").exists()).toBe(false);
    expect(wrapper.find("[data-test=filter-coverages]").exists()).toBe(false);
    expect(wrapper.find("[data-test=filter-template-gaps]").exists()).toBe(false);
    expect(wrapper.get("[data-test=filter-summary]").text()).toBe("筛选：群主 zhangsan");
  });

  it("narrows to the groups lacking their current welcome template in one click", async () => {
    const model = emptyFilter();
    const wrapper = render(model);
    await wrapper.get("[data-test=filter-template-gaps]").trigger("click");
    expect(model.welcomeCoverages).toEqual([WelcomeCoverage.MISSING, WelcomeCoverage.OUTDATED]);
    expect(wrapper.emitted("change")).toHaveLength(1);
  });

  it("updates the model and tells the page when the owners change", async () => {
    const model = emptyFilter();
    const wrapper = render(model);
    await wrapper.get("[data-test=filter-owners]").setValue("wangwu");
    expect(model.owners).toBe("wangwu");
    expect(wrapper.emitted("change")).toHaveLength(1);
  });
});
