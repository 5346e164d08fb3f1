/**
 * Epoch reconciliation: fetch an epoch's report from the oracles, check its bytes against the
 * on-chain reportHash, then check the report against itself and the chain: the leaves rebuild
 * the root, the rewards add up to the total, the total is within the budget, and each account's
 * cumulative is its previous cumulative plus this epoch's reward. A mismatch names the accounts
 * at fault, so a guardian can revoke the root before its challenge window ends.
 */
import { getAddress, keccak256, type Address, type Hex } from "viem";
import { parseEpochReport, type EpochReport } from "../../sdk/src/epochReport.ts";
import { CumulativeRewardTree } from "../../sdk/src/merkle/tree.ts";

export type ReconciliationStatus = "pending" | "match" | "mismatch";

/** What RootProposed put on-chain. */
export type OnchainEpoch = {
  readonly epoch: bigint;
  readonly root: Hex;
  readonly total: bigint;
  readonly reportHash: Hex;
  readonly validatorsRoot: Hex;
};

export type Reconciliation = {
  readonly status: ReconciliationStatus;
  readonly reason: string | null;
  readonly accounts: readonly Address[];
};

/** The report bytes an oracle served whose hash is the on-chain one. */
export type FetchedReport = { readonly body: string; readonly source: string };

export type FetchOutcome =
  | { readonly kind: "found"; readonly report: FetchedReport }
  | { readonly kind: "differs"; readonly source: string; readonly hash: Hex }
  | { readonly kind: "unavailable"; readonly errors: readonly string[] };

const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Asks each oracle in turn for `<url>/epochs/<n>/report`; the first whose bytes hash to
 * `reportHash` wins. Oracles that answer with other bytes make it "differs" (when none has the
 * right ones); none answering leaves it "unavailable" (the reconciliation stays pending).
 */
export async function fetchEpochReport(oracleUrls: readonly string[], epoch: bigint, reportHash: Hex, timeoutMs = 3_000): Promise<FetchOutcome> {
  const errors: string[] = [];
  let differing: { source: string; hash: Hex } | undefined;
  for (const base of oracleUrls) {
    const source = `${base}/epochs/${epoch}/report`;
    try {
      const response = await fetch(source, { signal: AbortSignal.timeout(timeoutMs) });
      if (!response.ok) {
        errors.push(`${source}: HTTP ${response.status}`);
        await response.body?.cancel();
        continue;
      }
      const bytes = new Uint8Array(await response.arrayBuffer());
      const hash = keccak256(bytes);
      if (hash.toLowerCase() === reportHash.toLowerCase()) return { kind: "found", report: { body: decoder.decode(bytes), source } };
      differing ??= { source, hash };
    } catch (error) {
      errors.push(`${source}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (differing) return { kind: "differs", ...differing };
  return { kind: "unavailable", errors: oracleUrls.length === 0 ? ["no oracle URLs configured (POD_ORACLE_URLS)"] : errors };
}

/** Previous cumulative rewards by lower-case account (empty for the first epoch). */
export type PreviousCumulatives = ReadonlyMap<string, bigint>;

export function cumulativesOf(report: EpochReport): Map<string, bigint> {
  return new Map(report.leaves.map((leaf) => [leaf.account.toLowerCase(), leaf.cumulative]));
}

/** The reconciliation of a fetched report whose hash already matched. */
export type CheckedReport = Reconciliation & { readonly report: EpochReport | undefined };

/**
 * Checks a report (already hash-checked) against the chain. `previous` is the previous epoch's
 * cumulatives when known (undefined skips the per-account step check; the sums still run).
 */
export function checkEpochReport(body: string, onchain: OnchainEpoch, previous: PreviousCumulatives | undefined, previousRoot: Hex | undefined): CheckedReport {
  let report: EpochReport;
  try {
    report = parseEpochReport(body);
  } catch (error) {
    return { status: "mismatch", reason: `report does not parse: ${error instanceof Error ? error.message : String(error)}`, accounts: [], report: undefined };
  }
  const problems: string[] = [];
  const named = new Set<Address>();
  if (BigInt(report.epoch) !== onchain.epoch) problems.push(`report is for epoch ${report.epoch}, not ${onchain.epoch}`);
  if (report.root !== onchain.root.toLowerCase()) problems.push(`report root ${report.root} is not the on-chain root ${onchain.root}`);
  if (report.validatorsRoot !== onchain.validatorsRoot.toLowerCase()) problems.push(`report validatorsRoot ${report.validatorsRoot} is not the on-chain ${onchain.validatorsRoot}`);
  if (report.total !== onchain.total) problems.push(`report total ${report.total} is not the on-chain total ${onchain.total}`);
  if (previousRoot !== undefined && report.previousRoot !== previousRoot.toLowerCase()) problems.push(`report previousRoot ${report.previousRoot} is not the previous epoch's root ${previousRoot}`);

  const rebuilt = CumulativeRewardTree.build(report.leaves.map((l) => ({ account: l.account, cumulativeReward: l.cumulative })));
  if (rebuilt.root !== onchain.root.toLowerCase()) problems.push(`the report's leaves rebuild root ${rebuilt.root}, not the on-chain root ${onchain.root}`);

  const rewards = report.accounts.reduce((sum, a) => sum + a.reward, 0n);
  if (rewards !== report.total) problems.push(`the accounts' rewards add up to ${rewards}, not the total ${report.total}`);
  if (report.total > report.params.emissionBudget) problems.push(`the total ${report.total} is above the emission budget ${report.params.emissionBudget}`);

  const leaves = cumulativesOf(report);
  const inAccounts = new Set<string>();
  for (const entry of report.accounts) {
    const key = entry.account.toLowerCase();
    inAccounts.add(key);
    const leaf = leaves.get(key) ?? 0n;
    if (leaf !== entry.cumulative) named.add(entry.account);
    if (previous !== undefined && (previous.get(key) ?? 0n) + entry.reward !== entry.cumulative) named.add(entry.account);
  }
  if (previous !== undefined) {
    // An account with no entry this epoch keeps its cumulative.
    for (const leaf of report.leaves) {
      const key = leaf.account.toLowerCase();
      if (!inAccounts.has(key) && (previous.get(key) ?? 0n) !== leaf.cumulative) named.add(leaf.account);
    }
  }
  if (named.size > 0) problems.push(`cumulative rewards do not follow from the previous epoch plus this epoch's reward for ${[...named].join(", ")}`);

  const accounts = [...named].map((a) => getAddress(a)).sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1));
  if (problems.length === 0) return { status: "match", reason: null, accounts: [], report };
  return { status: "mismatch", reason: problems.join("; "), accounts, report };
}

/** The reconciliation of an oracle answer that is not the on-chain report. */
export function differingReport(outcome: Extract<FetchOutcome, { kind: "differs" }>, onchain: OnchainEpoch): Reconciliation {
  return { status: "mismatch", reason: `report hash differs: ${outcome.source} served bytes hashing to ${outcome.hash}, on-chain reportHash is ${onchain.reportHash}`, accounts: [] };
}
