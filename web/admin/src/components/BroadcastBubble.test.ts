import { describe, expect, it } from "vitest";
import { mount } from "@vue/test-utils";
import { create } from "@bufbuild/protobuf";
import BroadcastBubble from "./BroadcastBubble.vue";
import { BroadcastAttachmentSchema, type BroadcastAttachment } from "../gen/scrm/messaging/v1/messaging_pb";

function render(content: string, attachments: BroadcastAttachment[] = [], senderName?: string) {
  return mount(BroadcastBubble, { props: { content, attachments, senderName, groupName: "会员福利群" } });
}

describe("BroadcastBubble", () => {
  it("says what to do while there is nothing to show", () => {
    const wrapper = render("   ");
    expect(wrapper.get("[data-test=bubble-empty]").text()).toContain("输入内容后");
    expect(wrapper.find("[data-test=bubble-text]").exists()).toBe(false);
  });

  it("shows the text in a bubble from the owner, keeping line breaks", () => {
    const wrapper = render("今晚8点\n盲盒秒杀", [], "张三");
    expect(wrapper.get("[data-test=bubble-text]").element.textContent).toBe("今晚8点\n盲盒秒杀");
    expect(wrapper.get(".sender").text()).toBe("张三");
    expect(wrapper.get(".avatar").text()).toBe("张");
    expect(wrapper.find("[data-test=bubble-empty]").exists()).toBe(false);
  });

  it("names the sender 群主 when the owner is not known yet", () => {
    expect(render("hi").get(".sender").text()).toBe("群主");
  });

  it("draws a link card with title, description and a placeholder cover", () => {
    const link = create(BroadcastAttachmentSchema, { body: { case: "link", value: { title: "盲盒秒杀", desc: "限时 1 小时", url: "https://example.com/a" } } });
    const wrapper = render("", [link]);
    const card = wrapper.get("[data-test=bubble-link]");
    expect(card.get(".card-title").text()).toBe("盲盒秒杀");
    expect(card.get(".card-desc").text()).toBe("限时 1 小时");
    expect(card.get(".placeholder").text()).toBe("链接");
    expect(wrapper.find("[data-test=bubble-empty]").exists()).toBe(false);
  });

  it("falls back to the URL when a link has no title", () => {
    const link = create(BroadcastAttachmentSchema, { body: { case: "link", value: { url: "https://example.com/a" } } });
    expect(render("", [link]).get("[data-test=bubble-link] .card-title").text()).toBe("https://example.com/a");
  });

  it("draws a mini-program card and an image after the text, in order", () => {
    const mini = create(BroadcastAttachmentSchema, { body: { case: "miniprogram", value: { title: "会员中心", appid: "wx1", page: "/p.html", picUrl: "https://example.com/c.png" } } });
    const image = create(BroadcastAttachmentSchema, { body: { case: "image", value: { picUrl: "https://example.com/i.png" } } });
    const wrapper = render("看看这个", [mini, image]);
    const rows = wrapper.findAll(".row");
    expect(rows).toHaveLength(3);
    expect(rows[0].find("[data-test=bubble-text]").exists()).toBe(true);
    expect(rows[1].get("[data-test=bubble-miniprogram] .card-title").text()).toBe("会员中心");
    expect(rows[1].get(".mini-cover").attributes("src")).toBe("https://example.com/c.png");
    expect(rows[2].get("[data-test=bubble-image]").attributes("src")).toBe("https://example.com/i.png");
  });
});
