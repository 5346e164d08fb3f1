/** Claim proofs from a reconciled report's leaves (one tree per report, kept while it is the latest) and epoch status. */
import type { Hex } from "viem";
import { parseEpochReport } from "../../../sdk/src/epochReport.ts";
import { CumulativeRewardTree } from "../../../sdk/src/merkle/tree.ts";

type Tree = { readonly tree: CumulativeRewardTree; readonly cumulatives: ReadonlyMap<string, bigint> };

let cached: { key: string; tree: Tree } | undefined;

function treeOf(report: { epoch: bigint; reportHash: Hex; body: string }): Tree {
  const key = `${report.epoch}:${report.reportHash}`;
  if (cached?.key === key) return cached.tree;
  const parsed = parseEpochReport(report.body);
  const tree = CumulativeRewardTree.build(parsed.leaves.map((l) => ({ account: l.account, cumulativeReward: l.cumulative })));
  const entry = { tree, cumulatives: new Map(parsed.leaves.map((l) => [l.account.toLowerCase(), l.cumulative])) };
  cached = { key, tree: entry };
  return entry;
}

export function proofFor(report: { epoch: bigint; reportHash: Hex; body: string }, account: Hex): { cumulative: bigint; proof: Hex[] } {
  const { tree, cumulatives } = treeOf(report);
  const cumulative = cumulatives.get(account.toLowerCase());
  if (cumulative === undefined) return { cumulative: 0n, proof: [] };
  return { cumulative, proof: tree.proofFor(account) ?? [] };
}

/** "revoked" as recorded; otherwise "accepted" once the challenge window has passed at `now`. */
export function epochStatus(row: { status: string; claimableAt: bigint }, now: bigint): "proposed" | "accepted" | "revoked" {
  if (row.status === "revoked") return "revoked";
  return row.claimableAt <= now ? "accepted" : "proposed";
}
