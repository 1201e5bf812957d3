import { describe, expect, it } from "vitest";
import { useCursor } from "./cursor";

describe("useCursor", () => {
  it("walks forward with the server's tokens and back to pages already seen", () => {
    const cursor = useCursor();
    expect(cursor.token.value).toBe("");
    expect(cursor.forward()).toBe(false);
    cursor.loaded("t2");
    expect(cursor.hasNext.value).toBe(true);
    expect(cursor.forward()).toBe(true);
    expect([cursor.page.value, cursor.token.value]).toEqual([2, "t2"]);
    cursor.loaded("t3");
    cursor.forward();
    cursor.loaded("");
    expect([cursor.page.value, cursor.token.value, cursor.hasNext.value]).toEqual([3, "t3", false]);
    expect(cursor.back()).toBe(true);
    expect([cursor.page.value, cursor.token.value]).toEqual([2, "t2"]);
  });

  it("starts over on reset", () => {
    const cursor = useCursor();
    cursor.loaded("t2");
    cursor.forward();
    cursor.reset();
    expect([cursor.page.value, cursor.token.value, cursor.hasPrev.value, cursor.hasNext.value]).toEqual([1, "", false, false]);
    expect(cursor.back()).toBe(false);
  });
});
