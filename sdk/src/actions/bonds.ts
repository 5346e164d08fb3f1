/**
 * Bonds of sPOD (BondManager): bond, request an unbond (one pending unbond per account, its
 * cooldown restarting on each request), cancel it, withdraw it once unlocked.
 */
import { bondManagerAbi } from "../abi/BondManager.ts";
import type { PodClients } from "../client.ts";
import { eventOf, positive, sendCall, type WriteResult } from "./internal.ts";

export type BondReturnType = WriteResult & { shares: bigint; activeShares: bigint };

/** Bonds `shares` of the sender's sPOD to its account (no approval needed). Errors: ZeroShares, ERC20InsufficientBalance. */
export async function bond(pod: PodClients, parameters: { shares: bigint }): Promise<BondReturnType> {
  const manager = pod.contracts.bondManager;
  const sent = await sendCall(pod, { contract: "BondManager", address: manager, abi: bondManagerAbi, functionName: "bond", args: [positive(parameters.shares, "shares")] });
  const event = eventOf(sent.receipt, bondManagerAbi, manager, "Bonded");
  return { hash: sent.hash, receipt: sent.receipt, shares: event.args.shares, activeShares: event.args.activeShares };
}

export type RequestUnbondReturnType = WriteResult & { shares: bigint; pendingShares: bigint; unlocksAt: bigint };

/**
 * Moves `shares` of the active bond to the pending unbond, which unlocks whole at `unlocksAt`.
 * Errors: ZeroShares, InsufficientActiveBond.
 */
export async function requestUnbond(pod: PodClients, parameters: { shares: bigint }): Promise<RequestUnbondReturnType> {
  const manager = pod.contracts.bondManager;
  const sent = await sendCall(pod, { contract: "BondManager", address: manager, abi: bondManagerAbi, functionName: "requestUnbond", args: [parameters.shares] });
  const event = eventOf(sent.receipt, bondManagerAbi, manager, "UnbondRequested");
  return { hash: sent.hash, receipt: sent.receipt, shares: event.args.shares, pendingShares: event.args.pendingShares, unlocksAt: event.args.unlocksAt };
}

/** Returns the whole pending unbond to the active bond. Errors: NoPendingUnbond. */
export async function cancelUnbond(pod: PodClients): Promise<WriteResult & { shares: bigint; activeShares: bigint }> {
  const manager = pod.contracts.bondManager;
  const sent = await sendCall(pod, { contract: "BondManager", address: manager, abi: bondManagerAbi, functionName: "cancelUnbond", args: [] });
  const event = eventOf(sent.receipt, bondManagerAbi, manager, "UnbondCancelled");
  return { hash: sent.hash, receipt: sent.receipt, shares: event.args.shares, activeShares: event.args.activeShares };
}

/** Withdraws the unlocked pending unbond as sPOD. Errors: NoPendingUnbond, UnbondingNotElapsed, BondIsFrozen. */
export async function withdrawUnbonded(pod: PodClients): Promise<WriteResult & { shares: bigint }> {
  const manager = pod.contracts.bondManager;
  const sent = await sendCall(pod, { contract: "BondManager", address: manager, abi: bondManagerAbi, functionName: "withdrawUnbonded", args: [] });
  const event = eventOf(sent.receipt, bondManagerAbi, manager, "UnbondWithdrawn");
  return { hash: sent.hash, receipt: sent.receipt, shares: event.args.shares };
}
