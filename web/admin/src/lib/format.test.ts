import { describe, expect, it } from "vitest";
import { ConnectError, Code } from "@connectrpc/connect";
import { ApiProblem } from "./api";
import { describeError, formatTime, parseStoreIds, roleLabel } from "./format";

describe("formatTime", () => {
  it("shows a time in the given timezone", () => {
    const noonUtc = Date.UTC(2026, 10, 26, 4, 5);
    expect(formatTime(noonUtc, "Asia/Shanghai")).toBe("2026/11/26 12:05");
    expect(formatTime(noonUtc, "UTC")).toBe("2026/11/26 04:05");
  });

  it("reads protobuf timestamps and shows a dash for none", () => {
    expect(formatTime({ seconds: 0n, nanos: 0 } as never)).toBe("—");
    expect(formatTime(undefined)).toBe("—");
    expect(formatTime({ seconds: 1795665900n, nanos: 0 } as never, "UTC")).toBe("2026/11/26 04:05");
  });
});

describe("describeError", () => {
  it("names the field in Chinese", () => {
    expect(describeError(new ApiProblem("请输入密码", "invalid_argument", "password"))).toBe("「密码」有误：请输入密码");
  });

  it("explains gRPC codes in plain language", () => {
    expect(describeError(new ConnectError("role `koc` may not do this", Code.PermissionDenied))).toBe(
      "没有权限进行此操作（role `koc` may not do this）",
    );
  });
});

describe("small helpers", () => {
  it("labels roles and parses store lists", () => {
    expect(roleLabel(3)).toBe("店长");
    expect(parseStoreIds("1, 2，x 3")).toEqual([1n, 2n, 3n]);
  });
});
