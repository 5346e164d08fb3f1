/**
 * One epoch through the pipeline, each step resumable and idempotent:
 *   closed → computed (report + state on disk) → signed → proposed (quorum of co-signatures, or
 *   already on-chain) → settled (the gateway's grants, when this oracle holds the settler key) →
 *   bought back.
 * Every step first looks at what is already done (files, then the chain), so a crash anywhere
 * resumes without posting or settling twice. Waiting (epoch not closed, gateway down, peers not
 * ready) raises EpochDelayed; the runner retries later.
 */
import { getAddress, isAddressEqual, keccak256, stringToBytes, type Address, type Hex } from "viem";
import type { EpochRoot } from "../../../sdk/src/typedData.ts";
import { runBuyback } from "../chain/buyback.ts";
import { differingFields, ProposalConflict, proposeRoot, readOracleSet, readProposal } from "../chain/propose.ts";
import { epochClosesAt, findClosingBlock, type EpochSchedule } from "../chain/schedule.ts";
import { settleEpochUsage } from "../chain/settle.ts";
import { readEpochChainState } from "../chain/snapshot.ts";
import { collectSignatures, fetchPeerReport } from "../cosign/peers.ts";
import { parseSignedEpochRoot, serializeSignedEpochRoot, signEpochRoot } from "../cosign/signedRoot.ts";
import { computeEpoch } from "../epoch/compute.ts";
import { diffReports, parseEpochReport } from "../../../sdk/src/epochReport.ts";
import { decodeOracleState, encodeOracleState, initialOracleState } from "../epoch/state.ts";
import type { EpochComputation, OracleState } from "../epoch/types.ts";
import { fetchAllReceipts, fetchEpochUsage } from "../sources/gateway.ts";
import { readInvalidations } from "../sources/invalidations.ts";
import type { OracleContext } from "./context.ts";

export type PipelineStep = "computed" | "signed" | "proposed" | "settled" | "boughtBack";

/** Not an error: the epoch cannot advance yet (not closed, a gateway or the peers not ready). */
export class EpochDelayed extends Error {
  override name = "EpochDelayed";
}

/** The result of one epoch's computation as kept on disk. */
export type ComputedEpoch = { reportJson: string; epochRoot: EpochRoot; state: OracleState };

export async function previousState(ctx: OracleContext, epoch: number): Promise<OracleState> {
  if (epoch === 0) return initialOracleState();
  const text = await ctx.files.readState(epoch - 1);
  if (text === null) throw new Error(`the state after epoch ${epoch - 1} is missing; epochs run in order`);
  return decodeOracleState(text);
}

/** Steps up to the signature; returns the computation (from disk when already done). */
export async function computeAndSign(ctx: OracleContext, schedule: EpochSchedule, epoch: number): Promise<ComputedEpoch> {
  const stored = await ctx.files.readState(epoch);
  let computed: ComputedEpoch;
  if (stored !== null) {
    const reportJson = (await ctx.files.readReport(epoch)) as string;
    const signature = await ctx.files.readSignature(epoch);
    const state = decodeOracleState(stored);
    const epochRoot = signature !== null ? ownSignature(signature).epochRoot : epochRootOfReport(reportJson);
    computed = { reportJson, epochRoot, state };
  } else {
    const result = await ctx.metrics.timed("compute", () => computeFromSources(ctx, schedule, epoch));
    await ctx.files.writeComputation(epoch, result.reportJson, encodeOracleState(result.state));
    await ctx.hooks.afterStep?.(epoch, "computed");
    computed = { reportJson: result.reportJson, epochRoot: result.epochRoot, state: result.state };
    ctx.log("info", "epoch computed", {
      epoch, accepted: result.accepted, dropped: result.dropped, total: result.epochRoot.total.toString(), root: result.epochRoot.root,
      reportHash: result.reportHash,
    });
  }
  if ((await ctx.files.readSignature(epoch)) === null) {
    const signed = await signEpochRoot(ctx.oracle, computed.epochRoot, { chainId: ctx.chainId, distributor: ctx.contracts.rewardsDistributor });
    await ctx.files.writeSignature(epoch, serializeSignedEpochRoot(signed));
    await ctx.hooks.afterStep?.(epoch, "signed");
  }
  return computed;
}

function ownSignature(text: string) {
  return parseSignedEpochRoot(JSON.parse(text), "signature.json");
}

function epochRootOfReport(reportJson: string): EpochRoot {
  const report = parseEpochReport(reportJson);
  return { epoch: BigInt(report.epoch), root: report.root, total: report.total, reportHash: keccak256(stringToBytes(reportJson)), validatorsRoot: report.validatorsRoot };
}

async function computeFromSources(ctx: OracleContext, schedule: EpochSchedule, epoch: number): Promise<EpochComputation> {
  const closesAt = epochClosesAt(schedule, epoch);
  if (ctx.timing.closeGraceMs > 0 && Date.now() < Number(closesAt) * 1000 + ctx.timing.closeGraceMs) {
    throw new EpochDelayed(`epoch ${epoch} closes at ${closesAt}; waiting ${ctx.timing.closeGraceMs} ms past it for late receipts`);
  }
  const block = await findClosingBlock(ctx.client, closesAt);
  if (block === null) throw new EpochDelayed(`epoch ${epoch} has not closed on-chain yet (no block at or after ${closesAt})`);
  const previous = await previousState(ctx, epoch);
  const receipts = await fetchAllReceipts(ctx.gateways, epoch, ctx.fetchOptions);
  const invalidations = await readInvalidations(epoch, ctx.invalidations);
  const nodes = new Set<Address>();
  for (const receipt of receipts) nodes.add(getAddress(receipt.nodeAddress));
  for (const keys of previous.nodeKeys.values()) for (const key of keys) nodes.add(key);
  const models = [...new Set(receipts.map((r) => r.model))].sort();
  const accounts = new Set<Address>([...previous.accounts.keys()]);
  for (const receipt of receipts) accounts.add(getAddress(receipt.nodeAccount));
  const chain = await readEpochChainState(ctx.client, ctx.contracts, {
    epoch, closesAt, block, nodes: [...nodes].sort(), accounts: [...accounts], models, nodeKeysByAccount: previous.nodeKeys,
  });
  const result = await computeEpoch({ chain, contracts: ctx.contracts, receipts, invalidations, previous });
  ctx.metrics.epochClosed(epoch, result.accepted, result.dropped);
  return result;
}

/** Proposes the epoch's root once a quorum of oracles signed the same one. */
export async function proposeStep(ctx: OracleContext, epoch: number, computed: ComputedEpoch): Promise<void> {
  if ((await ctx.files.readJournal(epoch)).proposed !== undefined) return;
  const onChain = await readProposal(ctx.client, ctx.contracts.rewardsDistributor, epoch);
  if (onChain.record !== null) {
    // Our computation disagrees with what is on-chain: nothing more is done until a human looks.
    const fields = differingFields(onChain.record, computed.epochRoot);
    if (fields.length > 0) throw new ProposalConflict(BigInt(epoch), onChain.record, computed.epochRoot, fields);
    await ctx.files.recordStep(epoch, "proposed", { at: new Date().toISOString(), txHashes: [], note: "proposed by another oracle" });
    return;
  }
  const own = ownSignature((await ctx.files.readSignature(epoch)) as string);
  const { oracles, quorum } = await readOracleSet(ctx.client, ctx.contracts.rewardsDistributor);
  const collected = await ctx.metrics.timed("cosign", () => collectSignatures({
    peers: ctx.peers, epochRoot: computed.epochRoot, own, oracleSet: oracles, quorum: Number(quorum), chainId: ctx.chainId,
    distributor: ctx.contracts.rewardsDistributor, timeoutMs: ctx.timing.peerTimeoutMs,
  }));
  for (const mismatch of collected.mismatches) await reportMismatch(ctx, epoch, computed, mismatch.peer, mismatch.signer, mismatch.fields);
  if (!collected.quorumReached) {
    throw new EpochDelayed(
      `epoch ${epoch}: ${collected.signatures.length} of ${quorum} matching signatures` +
        (collected.mismatches.length > 0 ? ` (${collected.mismatches.length} oracle(s) DISAGREE: nothing is posted)` : "") +
        (collected.unreachable.length > 0 ? `; unreachable: ${collected.unreachable.join(", ")}` : ""),
    );
  }
  const result = await proposeRoot(ctx.oracleWallet, ctx.client, ctx.contracts.rewardsDistributor, computed.epochRoot, collected.signatures);
  await ctx.hooks.afterStep?.(epoch, "proposed");
  const txHashes: Hex[] = result.alreadyProposed ? [] : [result.txHash];
  await ctx.files.recordStep(epoch, "proposed", { at: new Date().toISOString(), txHashes, ...(result.alreadyProposed ? { note: "proposed by another oracle" } : {}) });
  ctx.log("info", result.alreadyProposed ? "epoch root already proposed" : "epoch root proposed", { epoch, root: computed.epochRoot.root, txHashes });
}

/** Loud: which accounts differ, so operators can see whose inputs diverged. */
async function reportMismatch(ctx: OracleContext, epoch: number, computed: ComputedEpoch, peer: string, signer: Address, fields: readonly string[]): Promise<void> {
  ctx.metrics.mismatch(fields);
  let detail: unknown = "their report could not be fetched";
  try {
    const theirs = await fetchPeerReport(peer, epoch);
    if (theirs !== null) detail = diffReports(parseEpochReport(computed.reportJson), parseEpochReport(theirs));
  } catch (error) {
    detail = `their report could not be fetched: ${error instanceof Error ? error.message : String(error)}`;
  }
  ctx.log("error", "ORACLE DISAGREEMENT: another oracle signed a different epoch root; nothing is posted", { epoch, peer, signer, fields, differences: detail });
}

/** Settles the epoch's usage of the gateways this oracle holds the key of. */
export async function settleStep(ctx: OracleContext, epoch: number): Promise<void> {
  if (ctx.settler === undefined || (await ctx.files.readJournal(epoch)).settled !== undefined) return;
  const settlerAddress = ctx.settler.account.address;
  const txHashes: Hex[] = [];
  for (const gateway of ctx.gateways) {
    const usage = await fetchEpochUsage(gateway, epoch, ctx.fetchOptions);
    const own = { ...usage, data: usage.data.filter((u) => isAddressEqual(u.grant.gateway, settlerAddress)) };
    if (usage.unsettleable.length > 0) ctx.log("warn", "grants without a signed grant cannot be settled", { epoch, gateway: gateway.url, grants: usage.unsettleable });
    const result = await settleEpochUsage(ctx.settler, ctx.client, ctx.contracts.creditVault, epoch, own, { log: ctx.log });
    for (const dropped of result.dropped) ctx.log("warn", "usage dropped from settlement", { epoch, grantId: dropped.grantId, error: dropped.error });
    txHashes.push(...result.txHashes);
    ctx.log("info", "usage settled", { epoch, gateway: gateway.url, settled: result.settled.length, skipped: result.skipped, dropped: result.dropped.length });
  }
  await ctx.hooks.afterStep?.(epoch, "settled");
  await ctx.files.recordStep(epoch, "settled", { at: new Date().toISOString(), txHashes });
}

/** Triggers the buyback of the revenue the settlement forwarded. */
export async function buybackStep(ctx: OracleContext, epoch: number): Promise<void> {
  if ((await ctx.files.readJournal(epoch)).boughtBack !== undefined) return;
  const outcomes = await runBuyback(ctx.oracleWallet, ctx.client, ctx.contracts.buyback, ctx.buybackAssets);
  ctx.log("info", "buyback", { epoch, outcomes });
  await ctx.hooks.afterStep?.(epoch, "boughtBack");
  const txHashes = outcomes.flatMap((o) => ("txHash" in o && o.txHash !== undefined ? [o.txHash] : []));
  await ctx.files.recordStep(epoch, "boughtBack", { at: new Date().toISOString(), txHashes });
}
