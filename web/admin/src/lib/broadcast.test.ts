import { describe, expect, it } from "vitest";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { BroadcastMsgType } from "../gen/scrm/messaging/v1/messaging_pb";
import { MAX_AHEAD_MS, draftOf, emptyForm, formProblems, issueFieldLabel, scheduleProblem } from "./broadcast";

const now = Date.UTC(2026, 10, 26, 2, 0);
const filter = { tagIds: [], matchAllTags: false, ownerUserids: ["zhangsan"], storeIds: [], activityBands: [] };

describe("broadcast composer", () => {
  it("accepts a time within 30 days and refuses past or later times", () => {
    expect(scheduleProblem({ sendNow: true, scheduledAt: null }, now)).toBeNull();
    expect(scheduleProblem({ sendNow: false, scheduledAt: null }, now)).toBe("请选择发送时间，或改为立即发送");
    expect(scheduleProblem({ sendNow: false, scheduledAt: new Date(now - 1) }, now)).toBe("发送时间已过，请选择现在之后的时间");
    expect(scheduleProblem({ sendNow: false, scheduledAt: new Date(now + 60_000) }, now)).toBeNull();
    expect(scheduleProblem({ sendNow: false, scheduledAt: new Date(now + MAX_AHEAD_MS) }, now)).toBeNull();
    expect(scheduleProblem({ sendNow: false, scheduledAt: new Date(now + MAX_AHEAD_MS + 1) }, now)).toBe("最多只能提前 30 天定时发送");
  });

  it("names each missing field of the form", () => {
    const problems = formProblems({ ...emptyForm(), msgType: BroadcastMsgType.MINIPROGRAM }, false, now);
    expect(problems.map((problem) => problem.field)).toEqual(["发送对象", "小程序标题", "小程序 AppID", "小程序页面", "发送时间"]);
    expect(formProblems({ ...emptyForm(), targetMode: "filter" }, false, now)[0]).toEqual({ field: "发送对象", message: "请至少设置一个筛选条件" });
    expect(formProblems({ ...emptyForm(), groupIds: [1n], sendNow: true }, false, now)).toEqual([{ field: "消息内容", message: "文本消息的内容不能为空" }]);
  });

  it("counts the content's length in bytes, as WeCom does", () => {
    const form = { ...emptyForm(), groupIds: [1n], sendNow: true, content: "群".repeat(1334) };
    expect(formProblems(form, false, now)).toEqual([{ field: "消息内容", message: "内容不能超过 4000 字节" }]);
  });

  it("turns a link broadcast to picked groups into the request", () => {
    const at = new Date(now + 3_600_000);
    const form = { ...emptyForm(), groupIds: [5n, 6n], msgType: BroadcastMsgType.LINK, url: " https://example.com ", title: "秒杀", scheduledAt: at };
    const draft = draftOf(form, filter);
    expect(draft.targets).toEqual({ groupIds: [5n, 6n] });
    expect(draft.attachments).toHaveLength(1);
    expect(draft.attachments[0].body).toMatchObject({ case: "link", value: { url: "https://example.com", title: "秒杀" } });
    expect(timestampMs(draft.scheduledAt!)).toBe(at.getTime());
  });

  it("sends a filter instead of ids, and no time when sending now", () => {
    const draft = draftOf({ ...emptyForm(), targetMode: "filter", content: "hi", sendNow: true, scheduledAt: new Date(now) }, filter);
    expect(draft.targets).toEqual({ filter });
    expect(draft.attachments).toEqual([]);
    expect(draft.scheduledAt).toBeUndefined();
  });

  it("labels the server's field paths", () => {
    expect(issueFieldLabel("targets.group_ids[3]")).toBe("发送对象");
    expect(issueFieldLabel("scheduled_at")).toBe("发送时间");
    expect(issueFieldLabel("other")).toBe("other");
  });
});
