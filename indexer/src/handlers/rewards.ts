/**
 * RewardsDistributor: proposed and revoked epoch roots, claims, and each epoch's reconciliation
 * against the oracles' report. A reconciliation that finds no oracle answering stays pending and
 * is retried on the epoch clock (every few blocks), which also marks epochs accepted once their
 * challenge window has passed.
 */
import { ponder, type Context } from "ponder:registry";
import { account, claim, epoch, epochReport, validator } from "ponder:schema";
import { eq, or } from "ponder";
import type { Hex } from "viem";
import { parseEpochReport } from "../../../sdk/src/epochReport.ts";
import { checkEpochReport, cumulativesOf, differingReport, fetchEpochReport, type OnchainEpoch, type PreviousCumulatives } from "../../lib/reconcile.ts";
import { readOracleUrls } from "../../lib/settings.ts";
import { at, on } from "./record.ts";

const oracleUrls = readOracleUrls();

type ReconciliationColumns = {
  reconciliation: "pending" | "match" | "mismatch";
  reconciliationReason: string | null;
  mismatchedAccounts: Hex[];
  reportSource: string | null;
};

/** Parsed cumulatives of recent reports, by report hash (each report is parsed once). */
const cumulativesCache = new Map<string, Map<string, bigint>>();

async function previousCumulatives(context: Context, epochNumber: bigint): Promise<{ cumulatives: PreviousCumulatives | undefined; root: Hex | undefined }> {
  if (epochNumber === 0n) return { cumulatives: new Map(), root: undefined };
  const previous = await context.db.find(epoch, { epoch: epochNumber - 1n });
  if (!previous || previous.status === "revoked") return { cumulatives: undefined, root: undefined };
  if (previous.reconciliation !== "match") return { cumulatives: undefined, root: previous.root };
  const stored = await context.db.find(epochReport, { epoch: epochNumber - 1n });
  if (!stored) return { cumulatives: undefined, root: previous.root };
  let cumulatives = cumulativesCache.get(stored.reportHash);
  if (!cumulatives) {
    cumulatives = cumulativesOf(parseEpochReport(stored.body));
    if (cumulativesCache.size >= 4) cumulativesCache.delete(cumulativesCache.keys().next().value ?? "");
    cumulativesCache.set(stored.reportHash, cumulatives);
  }
  return { cumulatives, root: previous.root };
}

/** Fetches and checks the report of `onchain`; stores the report when its hash matched. */
async function reconcile(context: Context, onchain: OnchainEpoch): Promise<ReconciliationColumns> {
  const outcome = await fetchEpochReport(oracleUrls, onchain.epoch, onchain.reportHash);
  if (outcome.kind === "unavailable") {
    return { reconciliation: "pending", reconciliationReason: `no oracle served the report yet: ${outcome.errors.join("; ")}`, mismatchedAccounts: [], reportSource: null };
  }
  if (outcome.kind === "differs") {
    const result = differingReport(outcome, onchain);
    return { reconciliation: result.status, reconciliationReason: result.reason, mismatchedAccounts: [], reportSource: outcome.source };
  }
  const previous = await previousCumulatives(context, onchain.epoch);
  const checked = checkEpochReport(outcome.report.body, onchain, previous.cumulatives, previous.root);
  const stored = { reportHash: onchain.reportHash, body: outcome.report.body };
  await context.db.insert(epochReport).values({ epoch: onchain.epoch, ...stored }).onConflictDoUpdate(stored);
  for (const member of checked.report?.validators ?? []) {
    await context.db.insert(validator).values({ id: `${onchain.epoch}-${member}`, epoch: onchain.epoch, account: member }).onConflictDoNothing();
  }
  return { reconciliation: checked.status, reconciliationReason: checked.reason, mismatchedAccounts: [...checked.accounts], reportSource: outcome.report.source };
}

type Watched = { onchain: OnchainEpoch; claimableAt: bigint; accepted: boolean; pending: boolean; attempts: number; nextAttemptMs: number };

/** Epochs not yet accepted or not yet reconciled; loaded from the database on the first tick after a start. */
const watched = new Map<bigint, Watched>();
let watchedLoaded = false;

const retryDelayMs = (attempts: number) => Math.min(60_000, 1_000 * 2 ** Math.min(attempts, 6));

on("RewardsDistributor:RootProposed", async ({ event, context }) => {
  const { epoch: epochNumber, root, total, reportHash, validatorsRoot, claimableAt, proposer } = event.args;
  const onchain: OnchainEpoch = { epoch: epochNumber, root, total, reportHash, validatorsRoot };
  const result = await reconcile(context, onchain);
  const row = {
    root, total, reportHash, validatorsRoot, claimableAt: BigInt(claimableAt), proposer, status: "proposed", revokedBy: null,
    ...result, reconciliationAttempts: 1, ...at(event),
  };
  await context.db.insert(epoch).values({ epoch: epochNumber, ...row }).onConflictDoUpdate(row);
  watched.set(epochNumber, { onchain, claimableAt: BigInt(claimableAt), accepted: false, pending: result.reconciliation === "pending", attempts: 1, nextAttemptMs: Date.now() + retryDelayMs(1) });
});

on("RewardsDistributor:RootRevoked", async ({ event, context }) => {
  const epochNumber = event.args.epoch;
  watched.delete(epochNumber);
  if (await context.db.find(epoch, { epoch: epochNumber })) await context.db.update(epoch, { epoch: epochNumber }).set({ status: "revoked", revokedBy: event.args.by });
});

async function recordClaim(context: Context, event: Parameters<typeof at>[0] & { id: string }, args: { account: Hex; epoch: bigint; cumulative: bigint; amount: bigint }, bonded: boolean, bonus: bigint) {
  await context.db.insert(claim).values({ id: event.id, account: args.account, epoch: args.epoch, cumulative: args.cumulative, amount: args.amount, bonded, bonus, ...at(event) });
  await context.db.insert(account).values({ address: args.account, claimed: args.cumulative }).onConflictDoUpdate((row) => ({ claimed: row.claimed > args.cumulative ? row.claimed : args.cumulative }));
}

on("RewardsDistributor:RewardsClaimed", async ({ event, context }) => recordClaim(context, event, event.args, false, 0n));
on("RewardsDistributor:BondedRewardsClaimed", async ({ event, context }) => recordClaim(context, event, event.args, true, event.args.bonus));

async function loadWatched(context: Context): Promise<void> {
  const rows = await context.db.sql.select().from(epoch).where(or(eq(epoch.status, "proposed"), eq(epoch.reconciliation, "pending")));
  for (const row of rows) {
    if (row.status === "revoked") continue;
    watched.set(row.epoch, {
      onchain: { epoch: row.epoch, root: row.root, total: row.total, reportHash: row.reportHash, validatorsRoot: row.validatorsRoot },
      claimableAt: row.claimableAt, accepted: row.status === "accepted", pending: row.reconciliation === "pending",
      attempts: row.reconciliationAttempts, nextAttemptMs: 0,
    });
  }
  watchedLoaded = true;
}

ponder.on("EpochClock:block", async ({ event, context }) => {
  if (!watchedLoaded) await loadWatched(context);
  for (const [epochNumber, entry] of watched) {
    if (!entry.accepted && entry.claimableAt <= event.block.timestamp) {
      entry.accepted = true;
      await context.db.update(epoch, { epoch: epochNumber }).set({ status: "accepted" });
    }
    if (entry.pending && Date.now() >= entry.nextAttemptMs) {
      entry.attempts += 1;
      entry.nextAttemptMs = Date.now() + retryDelayMs(entry.attempts);
      const result = await reconcile(context, entry.onchain);
      entry.pending = result.reconciliation === "pending";
      await context.db.update(epoch, { epoch: epochNumber }).set({ ...result, reconciliationAttempts: entry.attempts });
    }
    if (entry.accepted && !entry.pending) watched.delete(epochNumber);
  }
});
