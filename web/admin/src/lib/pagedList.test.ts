import { describe, expect, it } from "vitest";
import { ConnectError, Code } from "@connectrpc/connect";
import { usePagedList } from "./pagedList";

describe("usePagedList", () => {
  it("restarts on the first page and appends the next ones", async () => {
    const pages: Record<string, { items: number[]; nextPageToken: string }> = { "": { items: [1, 2], nextPageToken: "b" }, b: { items: [3], nextPageToken: "" } };
    const list = usePagedList(async (token) => pages[token]);
    await list.load(true);
    expect(list.items.value).toEqual([1, 2]);
    expect(list.nextToken.value).toBe("b");
    await list.load(false);
    expect(list.items.value).toEqual([1, 2, 3]);
    expect(list.nextToken.value).toBe("");
    await list.load(true);
    expect(list.items.value).toEqual([1, 2]);
  });

  it("keeps what it has and says what went wrong", async () => {
    let fail = false;
    const list = usePagedList(async () => {
      if (fail) throw new ConnectError("denied", Code.PermissionDenied);
      return { items: ["a"], nextPageToken: "" };
    });
    await list.load(true);
    fail = true;
    await list.load(true);
    expect(list.items.value).toEqual(["a"]);
    expect(list.error.value).toBe("没有权限进行此操作（denied）");
  });
});
