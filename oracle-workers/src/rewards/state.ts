/**
 * What the reward engine keeps per account between epoch closes (rewards.md, "State kept per
 * account between epochs"), plus the two things the engine needs besides: the running cumulative
 * reward (what the Merkle leaf commits) and the last known inputs (for epochs without activity).
 */
import type { RewardParams } from "../../../sdk/src/rewardParams.ts";
import { PPM } from "../../../sdk/src/rewardParams.ts";

/** The inputs of one account at one epoch's close. */
export type AccountEpochInput = {
  readonly account: string;
  /** Base reward earned during the epoch (wei). */
  readonly base: bigint;
  /** Active bonded POD at the close (wei). */
  readonly bond: bigint;
  readonly registered: boolean;
  readonly suspended: boolean;
};

export type AccountState = {
  /** Smoothed weekly base earnings (wei). */
  readonly E: bigint;
  /** Lifetime base earnings (wei). */
  readonly lifetime: bigint;
  readonly closedEpochs: number;
  /** The last obsWindowEpochs base rewards, oldest first. */
  readonly recent: readonly bigint[];
  readonly validator: boolean;
  /** Frozen at the previous close: the multiplier that pays the next epoch. */
  readonly multiplierPpm: number;
  /** Frozen at the previous close: the earnings denominator that caps the next epoch's boostable reward. */
  readonly D: bigint;
  /** Frozen at the previous close: whether the next epoch's boost applies. */
  readonly boostEligible: boolean;
  /** Sum of all rewards paid so far (wei). */
  readonly cumulativeReward: bigint;
  /** Bond and flags at the last close the account had inputs for; used when it has none. */
  readonly lastBond: bigint;
  readonly lastRegistered: boolean;
  readonly lastSuspended: boolean;
};

/** The state of an account the engine has not seen before. */
export function initialAccountState(params: RewardParams): AccountState {
  return {
    E: 0n,
    lifetime: 0n,
    closedEpochs: 0,
    recent: [],
    validator: false,
    multiplierPpm: PPM,
    D: params.earningsFloor,
    boostEligible: false,
    cumulativeReward: 0n,
    lastBond: 0n,
    lastRegistered: false,
    lastSuspended: false,
  };
}
