// Departments as a tree for el-tree: children under their parents, siblings in WeCom's order (the server's).
import type { Department, Store } from "../gen/scrm/identity/v1/identity_pb";

/** One department of the tree, with its store when it is one. */
export interface TreeNode {
  id: bigint;
  label: string;
  staffCount: number;
  store?: Store;
  children: TreeNode[];
}

/** Builds the tree; departments whose parent is missing (outside a store manager's view) become roots. */
export function buildTree(departments: Department[], stores: Store[]): TreeNode[] {
  const storeById = new Map(stores.map((store) => [store.storeId, store]));
  const nodes = new Map<bigint, TreeNode>();
  for (const department of departments) {
    nodes.set(department.departmentId, {
      id: department.departmentId,
      label: department.name || `部门 ${department.departmentId}`,
      staffCount: Number(department.staffCount),
      store: department.isStore ? storeById.get(department.departmentId) : undefined,
      children: [],
    });
  }
  const roots: TreeNode[] = [];
  for (const department of departments) {
    const node = nodes.get(department.departmentId)!;
    const parent = nodes.get(department.parentid);
    if (parent && parent !== node) parent.children.push(node);
    else roots.push(node);
  }
  return roots;
}
