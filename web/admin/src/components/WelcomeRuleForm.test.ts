import { describe, expect, it } from "vitest";
import { mount } from "@vue/test-utils";
import ElementPlus from "element-plus";
import { defineComponent, h, ref } from "vue";
import WelcomeRuleForm from "./WelcomeRuleForm.vue";
import { emptyForm, type FormProblem, type WelcomeForm } from "../lib/welcome";
import { WelcomeChannel, WelcomeScopeKind } from "../gen/scrm/group/v1/group_pb";

function render(initial: Partial<WelcomeForm> = {}, problem: FormProblem | null = null) {
  const form = ref<WelcomeForm>({ ...emptyForm(), ...initial });
  const Host = defineComponent({
    setup: () => () =>
      h(WelcomeRuleForm, {
        modelValue: form.value,
        "onUpdate:modelValue": (value: WelcomeForm) => (form.value = value),
        groups: [{ chatId: "wr1", name: "会员福利群" }],
        tags: [],
        states: ["spring"],
        problem,
      }),
  });
  return { wrapper: mount(Host, { global: { plugins: [ElementPlus] }, attachTo: document.body }), form };
}

describe("WelcomeRuleForm", () => {
  it("inserts a variable by its Chinese name and previews it with a sample", async () => {
    const { wrapper, form } = render({ channels: [WelcomeChannel.ROBOT], text: "欢迎" });
    await wrapper.get("[data-test='insert-%GROUP_NAME%']").trigger("click");
    expect(form.value.text).toBe("欢迎%GROUP_NAME%");
    await wrapper.vm.$nextTick();
    expect(wrapper.get("[data-test=welcome-preview]").text()).toBe("欢迎会员福利群");
  });

  it("offers only the nickname while the group-template channel is chosen", () => {
    const { wrapper } = render();
    expect(wrapper.get("[data-test='insert-%NICKNAME%']").attributes("disabled")).toBeUndefined();
    expect(wrapper.get("[data-test='insert-%OWNER_NAME%']").attributes("disabled")).toBeDefined();
  });

  it("shows the group picker for a groups rule and the problem under its field", () => {
    const { wrapper } = render({ scopeKind: WelcomeScopeKind.GROUPS }, { field: "chatIds", message: "请至少选择一个群" });
    expect(wrapper.find("[data-test=welcome-groups]").exists()).toBe(true);
    expect(wrapper.get("[data-test=welcome-problem]").text()).toBe("「群」：请至少选择一个群");
  });

  it("explains what to do when there are no group tags", () => {
    const { wrapper } = render({ scopeKind: WelcomeScopeKind.GROUP_TAGS });
    expect(wrapper.text()).toContain("还没有群标签");
  });
});
