/**
 * Work and base rewards: work = Σ paid tokens × the model's work weight (ppm), and the epoch's
 * base budget split over accounts pro rata to work, floored; the dust stays unassigned.
 */
import type { Address } from "viem";
import { PPM } from "../../../sdk/src/rewardParams.ts";
import type { AcceptedReceipt } from "./screen.ts";

const PPM_N = BigInt(PPM);

/** Work per account (units: token × ppm), in order of first appearance in `accepted`. */
export function workByAccount(accepted: readonly AcceptedReceipt[]): Map<Address, bigint> {
  const work = new Map<Address, bigint>();
  for (const receipt of accepted) {
    const amount = BigInt(receipt.paidTokens) * BigInt(receipt.workWeightPpm);
    work.set(receipt.account, (work.get(receipt.account) ?? 0n) + amount);
  }
  return work;
}

/**
 * The part of the emission budget that base rewards may take: budget × 1e6 / maxMultiplierPpm,
 * floored, so that Σ rewards = Σ base × (at most the highest multiplier) stays within the budget
 * whatever the boosts. `highestMultiplierPpm` is the largest of maxMultiplierPpm and every
 * multiplier frozen at the previous close (those were frozen under the previous parameters).
 */
export function baseBudget(emissionBudget: bigint, highestMultiplierPpm: number): bigint {
  return (emissionBudget * PPM_N) / BigInt(highestMultiplierPpm);
}

/** base_i = floor(budget × work_i / Σ work); all zero when nobody worked. */
export function splitBase(budget: bigint, work: ReadonlyMap<Address, bigint>): Map<Address, bigint> {
  let totalWork = 0n;
  for (const amount of work.values()) totalWork += amount;
  const bases = new Map<Address, bigint>();
  for (const [account, amount] of work) bases.set(account, totalWork === 0n ? 0n : (budget * amount) / totalWork);
  return bases;
}
