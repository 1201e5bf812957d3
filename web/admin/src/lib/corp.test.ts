import { describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { CorpSettingsSchema } from "../gen/scrm/identity/v1/identity_pb";
import { corpChanges, corpDraft } from "./corp";

const settings = create(CorpSettingsSchema, { corpId: "wwdemo", corpName: "演示企业", agentid: 1000002n, secretSet: true, timezone: "Asia/Shanghai" });

describe("corp settings form", () => {
  it("sends only what changed, naming it, and keeps the secret unless typed", () => {
    const draft = { ...corpDraft(settings), corpName: "新企业", publicBaseUrl: "https://scrm.example.com/" };
    const { request, changed, problem } = corpChanges(settings, draft);
    expect(problem).toBeNull();
    expect(request).toEqual({ corpName: "新企业", publicBaseUrl: "https://scrm.example.com" });
    expect(changed).toEqual(["企业名称", "对外访问地址"]);
  });

  it("names the field at fault in Chinese", () => {
    expect(corpChanges(settings, { ...corpDraft(settings), corpId: "ww 12" }).problem?.field).toBe("corp_id");
    expect(corpChanges(settings, { ...corpDraft(settings), publicBaseUrl: "https://x.com/path" }).problem?.field).toBe("public_base_url");
    expect(corpChanges(settings, { ...corpDraft(settings), timezone: "上海" }).problem?.message).toContain("Asia/Shanghai");
  });

  it("a typed secret is sent", () => {
    const { request, changed } = corpChanges(settings, { ...corpDraft(settings), secret: " s3cret " });
    expect(request.secret).toBe("s3cret");
    expect(changed).toEqual(["应用 Secret"]);
  });
});
