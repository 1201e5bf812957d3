import { describe, expect, it } from "vitest";
import { checkTiers } from "./tiers";
import { formatFen, parseYuan } from "./customer";

describe("checkTiers", () => {
  it("ranks the rows and converts yuan to fen", () => {
    const checked = checkTiers([
      { name: " 银卡 ", minSpendYuan: "0" },
      { name: "金卡", minSpendYuan: "1000.5" },
    ]);
    expect(checked).toEqual({
      tiers: [
        { level: 1, name: "银卡", minSpendFen: 0n },
        { level: 2, name: "金卡", minSpendFen: 100050n },
      ],
    });
  });

  it("names the row at fault", () => {
    expect(checkTiers([{ name: "", minSpendYuan: "1" }])).toEqual({ problem: "第 1 级缺少等级名称", row: 1 });
    expect(checkTiers([{ name: "银卡", minSpendYuan: "abc" }])).toMatchObject({ row: 1 });
    expect(checkTiers([{ name: "银卡", minSpendYuan: "1.234" }])).toMatchObject({ row: 1 });
    expect(checkTiers([{ name: "银卡", minSpendYuan: "100" }, { name: "金卡", minSpendYuan: "100" }])).toEqual({
      problem: "第 2 级的消费门槛必须高于第 1 级",
      row: 2,
    });
    expect(checkTiers([{ name: "银卡", minSpendYuan: "1" }, { name: "银卡", minSpendYuan: "2" }])).toMatchObject({ row: 2 });
  });
});

describe("money", () => {
  it("reads yuan and shows fen", () => {
    expect(parseYuan("128.5")).toBe(12850n);
    expect(parseYuan("-1")).toBeNull();
    expect(formatFen(12850n)).toBe("¥128.50");
  });
});
