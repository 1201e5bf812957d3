import { describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { GetWelcomeCoverageResponseSchema, WelcomeChannel, WelcomeScopeKind } from "../gen/scrm/group/v1/group_pb";
import { checkWelcomeForm, coverageFigures, emptyForm, formToRule, insertAt, previewText, ruleToForm, serverProblem } from "./welcome";

describe("welcome rule form", () => {
  it("turns a campaign rule with a link into the API's rule and back", () => {
    const form = {
      ...emptyForm(),
      name: "3月盲盒活动欢迎语",
      scopeKind: WelcomeScopeKind.CAMPAIGN,
      states: [" spring ", ""],
      chatIds: ["wrOld"],
      channels: [WelcomeChannel.ROBOT],
      text: "欢迎 %NICKNAME% 加入 %GROUP_NAME%",
      attachment: "link" as const,
      linkTitle: "盲盒秒杀",
      linkUrl: "https://example.com/box",
    };
    const rule = formToRule(form);
    expect(rule.scope?.states).toEqual(["spring"]);
    expect(rule.scope?.chatIds).toEqual([]);
    expect(rule.template).toBeUndefined();
    expect(rule.content?.attachment.case).toBe("link");
    const back = ruleToForm(rule);
    expect(back.linkUrl).toBe("https://example.com/box");
    expect(back.attachment).toBe("link");
    expect(back.states).toEqual(["spring"]);
  });

  it("names the field at fault, in Chinese", () => {
    expect(checkWelcomeForm({ ...emptyForm(), name: " " })?.field).toBe("name");
    expect(checkWelcomeForm({ ...emptyForm(), name: "a", scopeKind: WelcomeScopeKind.GROUPS })?.field).toBe("chatIds");
    expect(checkWelcomeForm({ ...emptyForm(), name: "a", channels: [] })?.field).toBe("channels");
    expect(checkWelcomeForm({ ...emptyForm(), name: "a", text: "", attachment: "none" })?.field).toBe("text");
    expect(checkWelcomeForm({ ...emptyForm(), name: "a", attachment: "link", linkTitle: "t", linkUrl: "nope" })?.field).toBe("linkUrl");
    expect(checkWelcomeForm({ ...emptyForm(), name: "a" })).toBeNull();
  });

  it("allows only the nickname in a group welcome template, and no unknown variables", () => {
    const template = checkWelcomeForm({ ...emptyForm(), name: "a", text: "欢迎来到 %GROUP_NAME%" });
    expect(template?.field).toBe("text");
    expect(template?.message).toContain("群名称");
    expect(checkWelcomeForm({ ...emptyForm(), name: "a", channels: [WelcomeChannel.ROBOT], text: "欢迎来到 %GROUP_NAME%" })).toBeNull();
    expect(checkWelcomeForm({ ...emptyForm(), name: "a", text: "%FOO%" })?.message).toContain("%FOO%");
  });

  it("previews with samples and inserts variables at the caret", () => {
    expect(previewText("欢迎 %NICKNAME% 加入 %GROUP_NAME%")).toBe("欢迎 小王 加入 会员福利群");
    expect(insertAt("欢迎加入", 2, "%NICKNAME%")).toEqual({ text: "欢迎%NICKNAME%加入", caret: 12 });
    expect(insertAt("abc", 99, "%X%").text).toBe("abc%X%");
  });

  it("maps the server's field to the form's", () => {
    expect(serverProblem("rule.content.text", "bad")).toEqual({ field: "text", message: "服务器未接受：bad" });
    expect(serverProblem("rule.unknown", "bad")).toBeNull();
  });

  it("computes the coverage figures", () => {
    const answer = create(GetWelcomeCoverageResponseSchema, { applicableGroups: 8n, currentGroups: 5n, outdatedGroups: 1n, missingGroups: 2n, coverageBps: 6250 });
    expect(coverageFigures(answer)).toEqual({ applicable: 8, current: 5, outdated: 1, missing: 2, percent: 62.5 });
  });
});
