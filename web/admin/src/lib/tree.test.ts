import { describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { DepartmentSchema, StoreSchema } from "../gen/scrm/identity/v1/identity_pb";
import { buildTree } from "./tree";

const department = (departmentId: bigint, parentid: bigint, name: string, isStore = false) =>
  create(DepartmentSchema, { departmentId, parentid, name, isStore, staffCount: 2n });

describe("buildTree", () => {
  it("nests departments under their parents and attaches stores", () => {
    const tree = buildTree(
      [department(1n, 0n, "总部"), department(2n, 1n, "华东区"), department(3n, 2n, "徐汇店", true)],
      [create(StoreSchema, { storeId: 3n, storeCode: "SH001" })],
    );
    expect(tree.map((node) => node.label)).toEqual(["总部"]);
    const store = tree[0].children[0].children[0];
    expect(store.label).toBe("徐汇店");
    expect(store.store?.storeCode).toBe("SH001");
    expect(store.staffCount).toBe(2);
  });

  it("makes departments without a visible parent roots", () => {
    const tree = buildTree([department(3n, 2n, "徐汇店", true), department(4n, 3n, "")], []);
    expect(tree.map((node) => node.label)).toEqual(["徐汇店"]);
    expect(tree[0].children[0].label).toBe("部门 4");
    expect(tree[0].store).toBeUndefined();
  });
});
