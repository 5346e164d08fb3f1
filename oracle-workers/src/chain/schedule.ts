/**
 * Epoch timing: the schedule from ProtocolParams and the closing block of an epoch, i.e. the last
 * block mined before the close. Every oracle finds the same block by the same binary search, so
 * they all read the chain at one state.
 */
import type { Address } from "viem";
import { protocolParamsAbi } from "../../../sdk/src/abi/contracts.ts";
import type { ClosingBlock } from "../epoch/types.ts";
import type { ChainReader } from "./client.ts";

export type EpochSchedule = { length: bigint; genesis: bigint };

/** The chain has no block before `closesAt` (the epoch closed before the chain began). */
export class NoBlockBeforeCloseError extends Error {
  override name = "NoBlockBeforeCloseError";
  readonly closesAt: bigint;
  constructor(closesAt: bigint) {
    super(`no block has a timestamp below ${closesAt}`);
    this.closesAt = closesAt;
  }
}

export class InvalidScheduleError extends Error {
  override name = "InvalidScheduleError";
}

export async function readEpochSchedule(client: Pick<ChainReader, "readContract">, protocolParams: Address): Promise<EpochSchedule> {
  const [length, genesis] = await client.readContract({ address: protocolParams, abi: protocolParamsAbi, functionName: "epochSchedule" });
  if (length === 0n) throw new InvalidScheduleError("ProtocolParams.epochSchedule: epoch length is 0");
  return { length, genesis };
}

/** When `epoch` closes: genesis + (epoch + 1) * length (unix seconds). */
export function epochClosesAt(schedule: EpochSchedule, epoch: number): bigint {
  if (!Number.isSafeInteger(epoch) || epoch < 0) throw new RangeError(`epoch must be a non-negative integer, got ${epoch}`);
  return schedule.genesis + (BigInt(epoch) + 1n) * schedule.length;
}

/** The epoch running at `nowSeconds`; -1 before genesis. */
export function currentEpoch(schedule: EpochSchedule, nowSeconds: bigint): number {
  if (nowSeconds < schedule.genesis) return -1;
  return Number((nowSeconds - schedule.genesis) / schedule.length);
}

/**
 * The last block with timestamp < closesAt, or null while the latest block is still before
 * `closesAt` (the epoch has not closed on-chain: a later block may still land before the close).
 * On a Hardhat node blocks appear only with transactions, so a quiet devnet stays null until
 * something is mined; the caller waits and asks again.
 */
export async function findClosingBlock(client: Pick<ChainReader, "getBlock">, closesAt: bigint): Promise<ClosingBlock | null> {
  const latest = await client.getBlock({ blockTag: "latest" });
  if (latest.timestamp < closesAt) return null;
  // Invariant: block `low` is before the close, block `high` is at or after it.
  let low = 0n;
  let high = latest.number;
  let lowBlock = await client.getBlock({ blockNumber: low });
  if (lowBlock.timestamp >= closesAt) throw new NoBlockBeforeCloseError(closesAt);
  while (high - low > 1n) {
    const middle = (low + high) / 2n;
    const block = await client.getBlock({ blockNumber: middle });
    if (block.timestamp < closesAt) {
      low = middle;
      lowBlock = block;
    } else {
      high = middle;
    }
  }
  return { number: lowBlock.number, hash: lowBlock.hash, timestamp: lowBlock.timestamp };
}
