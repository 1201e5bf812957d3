// Spend tiers as the level editor edits them: names and thresholds in yuan, checked before saving.
import { parseYuan } from "./customer";

/** One tier row in the editor: the threshold as typed, in yuan. */
export interface TierDraft {
  name: string;
  minSpendYuan: string;
}

/** A tier ready for UpdateLevelTiers. */
export interface TierInput {
  level: number;
  name: string;
  minSpendFen: bigint;
}

/** The tiers to save, ranked 1.. in row order, or the first problem in plain Chinese naming the row. */
export function checkTiers(drafts: TierDraft[]): { tiers: TierInput[] } | { problem: string; row: number } {
  const tiers: TierInput[] = [];
  for (const [index, draft] of drafts.entries()) {
    const row = index + 1;
    const name = draft.name.trim();
    if (!name) return { problem: `第 ${row} 级缺少等级名称`, row };
    if ([...name].length > 30) return { problem: `第 ${row} 级的名称不能超过 30 个字`, row };
    if (tiers.some((tier) => tier.name === name)) return { problem: `等级名称「${name}」重复了`, row };
    const fen = parseYuan(draft.minSpendYuan);
    if (fen === null) return { problem: `第 ${row} 级的消费门槛应为金额（元，最多两位小数）`, row };
    const previous = tiers[tiers.length - 1];
    if (previous && fen <= previous.minSpendFen) return { problem: `第 ${row} 级的消费门槛必须高于第 ${row - 1} 级`, row };
    tiers.push({ level: row, name, minSpendFen: fen });
  }
  return { tiers };
}
