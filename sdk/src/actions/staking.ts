/**
 * Staking POD for sPOD (StakedPod, ERC-4626): stake (approving POD when the allowance is short),
 * start or cancel the cooldown, and redeem in the unstake window.
 */
import type { Address, Hash } from "viem";
import { stakedPodAbi } from "../abi/StakedPod.ts";
import type { PodClients } from "../client.ts";
import { ensureAllowance, eventOf, positive, senderOf, sendCall, type WriteResult } from "./internal.ts";

export type StakeParameters = {
  /** POD wei to stake. */
  assets: bigint;
  /** Who receives the sPOD (default: the sender). */
  receiver?: Address | undefined;
};
export type StakeReturnType = WriteResult & { assets: bigint; shares: bigint; approvalHash: Hash | undefined };

/** Stakes `assets` POD; returns the sPOD shares minted. Errors: ERC20InsufficientBalance, ERC4626ExceededMaxDeposit. */
export async function stake(pod: PodClients, parameters: StakeParameters): Promise<StakeReturnType> {
  const assets = positive(parameters.assets, "assets");
  const vault = pod.contracts.stakedPod;
  const approvalHash = await ensureAllowance(pod, pod.contracts.podToken, vault, assets);
  const receiver = parameters.receiver ?? senderOf(pod);
  const sent = await sendCall(pod, { contract: "StakedPod", address: vault, abi: stakedPodAbi, functionName: "deposit", args: [assets, receiver] });
  const event = eventOf(sent.receipt, stakedPodAbi, vault, "Deposit");
  return { hash: sent.hash, receipt: sent.receipt, assets: event.args.assets, shares: event.args.shares, approvalHash };
}

export type StartCooldownReturnType = WriteResult & { shares: bigint; opensAt: bigint; closesAt: bigint };

/**
 * Starts (or restarts) the cooldown over `shares` sPOD: they may be redeemed in [opensAt,
 * closesAt). Errors: ZeroShares, CooldownExceedsBalance.
 */
export async function startCooldown(pod: PodClients, parameters: { shares: bigint }): Promise<StartCooldownReturnType> {
  const vault = pod.contracts.stakedPod;
  const sent = await sendCall(pod, { contract: "StakedPod", address: vault, abi: stakedPodAbi, functionName: "cooldown", args: [parameters.shares] });
  const event = eventOf(sent.receipt, stakedPodAbi, vault, "CooldownStarted");
  return { hash: sent.hash, receipt: sent.receipt, shares: event.args.shares, opensAt: event.args.opensAt, closesAt: event.args.closesAt };
}

/** Cancels the sender's cooldown. */
export async function cancelCooldown(pod: PodClients): Promise<WriteResult> {
  const { hash, receipt } = await sendCall(pod, { contract: "StakedPod", address: pod.contracts.stakedPod, abi: stakedPodAbi, functionName: "cancelCooldown", args: [] });
  return { hash, receipt };
}

export type RedeemParameters = {
  /** sPOD shares to redeem (at most the cooldown's). */
  shares: bigint;
  /** Who receives the POD (default: the sender). */
  receiver?: Address | undefined;
};
export type RedeemReturnType = WriteResult & { shares: bigint; assets: bigint };

/**
 * Redeems cooled-down sPOD for POD; returns the POD paid. Errors: CooldownNotStarted,
 * CooldownNotElapsed, UnstakeWindowClosed, ERC4626ExceededMaxRedeem.
 */
export async function redeem(pod: PodClients, parameters: RedeemParameters): Promise<RedeemReturnType> {
  const vault = pod.contracts.stakedPod;
  const owner = senderOf(pod);
  const receiver = parameters.receiver ?? owner;
  const sent = await sendCall(pod, { contract: "StakedPod", address: vault, abi: stakedPodAbi, functionName: "redeem", args: [positive(parameters.shares, "shares"), receiver, owner] });
  const event = eventOf(sent.receipt, stakedPodAbi, vault, "Withdraw");
  return { hash: sent.hash, receipt: sent.receipt, shares: event.args.shares, assets: event.args.assets };
}
