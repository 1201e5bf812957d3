import { describe, expect, it } from "vitest";
import { countAll } from "./counting";

function pages(sizes: number[]) {
  return async (token: string) => {
    const index = token ? Number(token) : 0;
    return { items: sizes[index], nextPageToken: index + 1 < sizes.length ? String(index + 1) : "" };
  };
}

describe("countAll", () => {
  it("adds up every page", async () => {
    expect(await countAll(pages([200, 200, 7]))).toEqual({ count: 407, capped: false });
  });

  it("stops at the page limit and says there are more", async () => {
    expect(await countAll(pages([200, 200, 200]), 2)).toEqual({ count: 400, capped: true });
  });
});
