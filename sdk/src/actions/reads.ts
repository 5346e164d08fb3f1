/**
 * Reads: an account's whole position, a node's status, the rewards epochs, what an account can
 * claim, a proposal's state. No wallet needed (pass the account).
 */
import type { Address, Hex } from "viem";
import { bondManagerAbi } from "../abi/BondManager.ts";
import { creditVaultAbi } from "../abi/CreditVault.ts";
import { nodeRegistryAbi } from "../abi/NodeRegistry.ts";
import { nodeReportsAbi } from "../abi/NodeReports.ts";
import { podGovernorAbi } from "../abi/PodGovernor.ts";
import { podTokenAbi } from "../abi/PodToken.ts";
import { protocolParamsAbi } from "../abi/ProtocolParams.ts";
import { rewardsDistributorAbi } from "../abi/RewardsDistributor.ts";
import { stakedPodAbi } from "../abi/StakedPod.ts";
import type { PodClients } from "../client.ts";
import { readCall, senderOf } from "./internal.ts";
import { fetchClaim } from "./rewards.ts";

export type CreditPosition = { asset: Address; balance: bigint; pendingWithdrawal: { amount: bigint; readyAt: bigint } | null };

export type AccountOverview = {
  account: Address;
  /** Liquid POD wei. */
  pod: bigint;
  /** sPOD held (bonded shares excluded) and its value in POD. */
  staked: { shares: bigint; assets: bigint };
  /** Governor votes (POD plus sPOD's POD value, delegated) at the last past second. */
  votes: bigint;
  cooldown: { shares: bigint; opensAt: bigint; closesAt: bigint } | null;
  bond: { activeShares: bigint; pendingShares: bigint; unlocksAt: bigint | null; frozen: boolean };
  /** Credit per accepted asset: POD, and the stablecoin where the deployment has one. */
  credit: CreditPosition[];
};

/** Everything `account` (default: the wallet's) holds in the protocol, read at the latest block. */
export async function getAccountOverview(pod: PodClients, parameters: { account?: Address | undefined } = {}): Promise<AccountOverview> {
  const account = senderOf(pod, parameters.account);
  const c = pod.contracts;
  const read = pod.publicClient.readContract.bind(pod.publicClient);
  const clock = await read({ address: c.governor, abi: podGovernorAbi, functionName: "clock" });
  const [podBalance, shares, votes, cooldown, activeShares, [pendingShares, unlocksAt], freezes] = await Promise.all([
    read({ address: c.podToken, abi: podTokenAbi, functionName: "balanceOf", args: [account] }),
    read({ address: c.stakedPod, abi: stakedPodAbi, functionName: "balanceOf", args: [account] }),
    read({ address: c.governor, abi: podGovernorAbi, functionName: "getVotes", args: [account, BigInt(clock) - 1n] }),
    read({ address: c.stakedPod, abi: stakedPodAbi, functionName: "cooldownOf", args: [account] }),
    read({ address: c.bondManager, abi: bondManagerAbi, functionName: "activeShares", args: [account] }),
    read({ address: c.bondManager, abi: bondManagerAbi, functionName: "pendingUnbond", args: [account] }),
    read({ address: c.bondManager, abi: bondManagerAbi, functionName: "freezesOf", args: [account] }),
  ]);
  const assets = await read({ address: c.stakedPod, abi: stakedPodAbi, functionName: "convertToAssets", args: [shares] });
  const creditAssets = [c.podToken, ...(c.stablecoin === undefined ? [] : [c.stablecoin])];
  const credit = await Promise.all(
    creditAssets.map(async (asset): Promise<CreditPosition> => {
      const [balance, withdrawal] = await Promise.all([
        read({ address: c.creditVault, abi: creditVaultAbi, functionName: "creditOf", args: [account, asset] }),
        read({ address: c.creditVault, abi: creditVaultAbi, functionName: "withdrawalOf", args: [account, asset] }),
      ]);
      return { asset, balance, pendingWithdrawal: withdrawal.amount === 0n ? null : { amount: withdrawal.amount, readyAt: BigInt(withdrawal.readyAt) } };
    }),
  );
  return {
    account,
    pod: podBalance,
    staked: { shares, assets },
    votes,
    cooldown: cooldown.shares === 0n ? null : { shares: cooldown.shares, opensAt: BigInt(cooldown.opensAt), closesAt: BigInt(cooldown.closesAt) },
    bond: { activeShares, pendingShares, unlocksAt: pendingShares === 0n ? null : BigInt(unlocksAt), frozen: freezes > 0n },
    credit,
  };
}

export type NodeLifecycle = "none" | "active" | "left" | "banned";
const NODE_STATUS: readonly NodeLifecycle[] = ["none", "active", "left", "banned"];

export type NodeStatus = {
  nodeKey: Address;
  account: Address;
  status: NodeLifecycle;
  suspended: boolean;
  /** Whether it may take work now (active, neither it nor its account suspended or banned). */
  serving: boolean;
  registeredAt: bigint;
  metadataURI: string;
  modelIds: readonly Hex[];
  accountSuspended: boolean;
  accountBanned: boolean;
  /** The account's active bond in sPOD shares. */
  bondShares: bigint;
  openReports: bigint;
  flags: bigint;
};

/** A node key's record, models, serving status, its account's bond and the reports against it. */
export async function getNodeStatus(pod: PodClients, parameters: { nodeKey: Address }): Promise<NodeStatus> {
  const c = pod.contracts;
  const read = pod.publicClient.readContract.bind(pod.publicClient);
  const { nodeKey } = parameters;
  const [node, modelIds, serving, [openReports, flags]] = await Promise.all([
    read({ address: c.nodeRegistry, abi: nodeRegistryAbi, functionName: "getNode", args: [nodeKey] }),
    read({ address: c.nodeRegistry, abi: nodeRegistryAbi, functionName: "nodeModels", args: [nodeKey] }),
    read({ address: c.nodeRegistry, abi: nodeRegistryAbi, functionName: "isNodeServing", args: [nodeKey] }),
    read({ address: c.nodeReports, abi: nodeReportsAbi, functionName: "nodeReportState", args: [nodeKey] }),
  ]);
  const [[accountSuspended, accountBanned], bondShares] = await Promise.all([
    read({ address: c.nodeRegistry, abi: nodeRegistryAbi, functionName: "accountStatus", args: [node.account] }),
    read({ address: c.bondManager, abi: bondManagerAbi, functionName: "activeShares", args: [node.account] }),
  ]);
  return {
    nodeKey,
    account: node.account,
    status: NODE_STATUS[node.status] ?? "none",
    suspended: node.suspended,
    serving,
    registeredAt: BigInt(node.registeredAt),
    metadataURI: node.metadataURI,
    modelIds,
    accountSuspended,
    accountBanned,
    bondShares,
    openReports,
    flags,
  };
}

/** A root's state: "pending" inside its challenge window, "claimable" after, "revoked", or "none". */
export type RootState = "none" | "pending" | "claimable" | "revoked";

export type EpochRootRecord = {
  epoch: bigint;
  root: Hex;
  total: bigint;
  reportHash: Hex;
  validatorsRoot: Hex;
  claimableAt: bigint;
  state: RootState;
};

export type EpochStatus = {
  /** The settlement epoch running at the latest block, and when it closes. */
  currentEpoch: bigint;
  currentEpochClosesAt: bigint;
  epochLength: bigint;
  /** The next epoch a root may be proposed for. */
  nextEpoch: bigint;
  /** The latest claimable root, or null when none is yet. */
  claimable: EpochRootRecord | null;
  /** The record of the epoch asked for (default: the latest proposed, nextEpoch - 1), or null. */
  record: EpochRootRecord | null;
};

/** The epoch schedule and the rewards roots (RewardsDistributor.epochRecord, nextEpoch, claimableEpoch). */
export async function getEpochStatus(pod: PodClients, parameters: { epoch?: bigint | undefined } = {}): Promise<EpochStatus> {
  const c = pod.contracts;
  const read = pod.publicClient.readContract.bind(pod.publicClient);
  const [block, [epochLength, genesis], nextEpoch, [exists, claimableEpoch, claimableRecord]] = await Promise.all([
    pod.publicClient.getBlock(),
    read({ address: c.protocolParams, abi: protocolParamsAbi, functionName: "epochSchedule" }),
    read({ address: c.rewardsDistributor, abi: rewardsDistributorAbi, functionName: "nextEpoch" }),
    read({ address: c.rewardsDistributor, abi: rewardsDistributorAbi, functionName: "claimableEpoch" }),
  ]);
  const now = block.timestamp;
  const currentEpoch = now < genesis ? 0n : (now - genesis) / epochLength;
  const asked = parameters.epoch ?? (nextEpoch > 0n ? nextEpoch - 1n : undefined);
  const record = asked === undefined ? undefined : await read({ address: c.rewardsDistributor, abi: rewardsDistributorAbi, functionName: "epochRecord", args: [asked] });
  const toRecord = (epoch: bigint, r: typeof claimableRecord): EpochRootRecord | null => {
    if (r.status === 0) return null;
    const claimableAt = BigInt(r.claimableAt);
    const state: RootState = r.status === 2 ? "revoked" : claimableAt <= now ? "claimable" : "pending";
    return { epoch, root: r.root, total: r.total, reportHash: r.reportHash, validatorsRoot: r.validatorsRoot, claimableAt, state };
  };
  return {
    currentEpoch,
    currentEpochClosesAt: genesis + (currentEpoch + 1n) * epochLength,
    epochLength,
    nextEpoch,
    claimable: exists ? toRecord(claimableEpoch, claimableRecord) : null,
    record: asked === undefined || record === undefined ? null : toRecord(asked, record),
  };
}

export type Claimable = {
  account: Address;
  /** The epoch of the indexer's latest claimable root (null when none). */
  epoch: number | null;
  cumulative: bigint;
  /** Claimed so far, read from the chain (the indexer may lag it). */
  claimed: bigint;
  /** What a claim would pay now (before any bonded-claim bonus). */
  claimable: bigint;
};

/** What `account` may claim: its leaf from the indexer, less what the chain says it claimed. */
export async function getClaimable(pod: PodClients, parameters: { account?: Address | undefined } = {}): Promise<Claimable> {
  const claim = await fetchClaim(pod, parameters);
  const claimed = await pod.publicClient.readContract({ address: pod.contracts.rewardsDistributor, abi: rewardsDistributorAbi, functionName: "claimed", args: [claim.account] });
  return { account: claim.account, epoch: claim.epoch, cumulative: claim.cumulative, claimed, claimable: claim.cumulative > claimed ? claim.cumulative - claimed : 0n };
}

export type ProposalState = "pending" | "active" | "canceled" | "defeated" | "succeeded" | "queued" | "expired" | "executed";
const PROPOSAL_STATES: readonly ProposalState[] = ["pending", "active", "canceled", "defeated", "succeeded", "queued", "expired", "executed"];

/** A proposal's state, its vote window and (once queued) its eta. Errors: GovernorNonexistentProposal. */
export async function getProposalState(pod: PodClients, parameters: { proposalId: bigint }): Promise<{ state: ProposalState; snapshot: bigint; deadline: bigint; eta: bigint }> {
  const { proposalId } = parameters;
  const governor = { contract: "PodGovernor", address: pod.contracts.governor, abi: podGovernorAbi, args: [proposalId] } as const;
  const [state, snapshot, deadline, eta] = await Promise.all([
    readCall(pod, { ...governor, functionName: "state" }),
    readCall(pod, { ...governor, functionName: "proposalSnapshot" }),
    readCall(pod, { ...governor, functionName: "proposalDeadline" }),
    readCall(pod, { ...governor, functionName: "proposalEta" }),
  ]);
  return { state: PROPOSAL_STATES[state] ?? "pending", snapshot, deadline, eta };
}
