/**
 * The reward engine: the eleven steps at each epoch's close (rewards.md, "At the close of
 * epoch t"). Every function is pure. Amounts are bigint (integer division floors: all operands
 * are non-negative, see params.ts); the steps the spec marks *float* use Number exactly as written.
 */
import type { RewardParams } from "../../../sdk/src/rewardParams.ts";
import { PPM, epochsPerWeek } from "../../../sdk/src/rewardParams.ts";
import type { AccountEpochInput, AccountState } from "./state.ts";
import { initialAccountState } from "./state.ts";

const PPM_N = BigInt(PPM);

/** The parameters the bigint steps use, converted once per parameter set. */
type BigintConstants = {
  readonly epochsPerWeek: bigint;
  readonly boostCapRho: bigint;
  readonly lambdaUp: bigint;
  readonly lambdaDown: bigint;
};
const bigintConstantsCache = new WeakMap<RewardParams, BigintConstants>();

function bigintConstants(params: RewardParams): BigintConstants {
  let constants = bigintConstantsCache.get(params);
  if (constants === undefined) {
    constants = {
      epochsPerWeek: BigInt(epochsPerWeek(params)),
      boostCapRho: BigInt(params.boostCapRhoPpm),
      lambdaUp: BigInt(params.lambdaUpPpm),
      lambdaDown: BigInt(params.lambdaDownPpm),
    };
    bigintConstantsCache.set(params, constants);
  }
  return constants;
}

/** Step 1: the reward for the epoch, paid with the snapshot frozen at the previous close. */
export function payEpoch(state: AccountState, base: bigint, params: RewardParams): bigint {
  const { boostCapRho, epochsPerWeek: nWeek } = bigintConstants(params);
  const boostableMax = (state.D * boostCapRho) / (PPM_N * nWeek);
  const boostable = base < boostableMax ? base : boostableMax;
  return base + (boostable * BigInt(state.multiplierPpm - PPM)) / PPM_N;
}

/** Step 2: the last `window` base rewards after pushing `base`, oldest first. */
export function pushRecent(recent: readonly bigint[], base: bigint, window: number): bigint[] {
  const next = [...recent, base];
  return next.length > window ? next.slice(next.length - window) : next;
}

/** Step 3: Eobs = sum(recent) * nWeek / len(recent). */
export function observedWeeklyEarnings(recent: readonly bigint[], params: RewardParams): bigint {
  let sum = 0n;
  for (const base of recent) sum += base;
  return (sum * bigintConstants(params).epochsPerWeek) / BigInt(recent.length);
}

/** Step 4: asymmetric smoothing, fast up and slow down. */
export function smoothEarnings(E: bigint, observed: bigint, params: RewardParams): bigint {
  const { lambdaUp, lambdaDown } = bigintConstants(params);
  const lam = observed >= E ? lambdaUp : lambdaDown;
  return (E * (PPM_N - lam) + observed * lam) / PPM_N;
}

/** Step 5: boost eligibility for the next epoch. */
export function isBoostEligible(
  registered: boolean,
  suspended: boolean,
  closedEpochs: number,
  lifetime: bigint,
  params: RewardParams,
): boolean {
  return registered && !suspended && closedEpochs >= params.minHistoryEpochs && lifetime >= params.minLifetimeBase;
}

/** Step 6: D = max(E, earningsFloor). */
export function earningsDenominator(E: bigint, params: RewardParams): bigint {
  return E > params.earningsFloor ? E : params.earningsFloor;
}

/** Step 6 (float): weeks of earnings bonded, w = bond / D. */
export function weeksBonded(bond: bigint, D: bigint): number {
  return Number(bond) / Number(D);
}

/** Step 7: validator eligibility, with hysteresis on the previous status. */
export function isValidator(
  wasValidator: boolean,
  boostEligible: boolean,
  bond: bigint,
  w: number,
  params: RewardParams,
): boolean {
  const weeksNeeded = wasValidator ? params.validatorExitWeeks : params.validatorEnterWeeks;
  return boostEligible && bond >= params.validatorMinBond && w >= weeksNeeded;
}

/** Step 8 (float): the linear part of the boost. */
export function linearBoostPpm(w: number, params: RewardParams): number {
  const c = Math.min(1, w / params.fullWeeks);
  return Math.floor(params.baseBoostMaxPpm * c);
}

/** Step 9 (float): weeks bonded beyond the full linear boost. */
export function excessWeeks(w: number, params: RewardParams): number {
  return Math.max(0, w - params.fullWeeks);
}

/** Step 9: whether an account belongs to the competitive set O. */
export function inCompetitiveSet(boostEligible: boolean, dw: number, E: bigint, params: RewardParams): boolean {
  return boostEligible && dw > 0 && E >= params.compMinEarnings;
}

/** Step 9: competition is on for a set of `size` accounts whose E sum to `totalE`. */
export function isCompetitionOn(size: number, totalE: bigint, params: RewardParams): boolean {
  return size >= params.compMinAccounts && totalE >= params.compMinTotalEarnings;
}

/** Step 10: the nearest-rank percentile of values sorted ascending (non-empty). */
export function nearestRankPercentile(sortedAscending: ArrayLike<number>, percentile: number): number {
  const value = sortedAscending[Math.ceil((percentile / 100) * sortedAscending.length) - 1];
  if (value === undefined) throw new RangeError("percentile of an empty set");
  return value;
}

/** Step 10: the number of tiers K for a competitive set of `size` accounts. */
export function tierCount(size: number, params: RewardParams): number {
  return Math.min(params.kMax, Math.max(params.kMin, Math.floor((params.kappaPpm / PPM) * Math.sqrt(size))));
}

/** Step 10: the competition's shape, fixed once per epoch from the dw of every member of O. */
export type CompetitionScale = { readonly L: number; readonly H: number; readonly K: number };

export function competitionScale(excessWeeksOfSet: ArrayLike<number>, params: RewardParams): CompetitionScale {
  const sorted = Float64Array.from(excessWeeksOfSet).sort();
  const L = sorted[0];
  if (L === undefined) throw new RangeError("competition over an empty set");
  return { L, H: nearestRankPercentile(sorted, params.percentile), K: tierCount(sorted.length, params) };
}

/** Step 10 (float): the competitive part of a member of O, winsorized at H and quantized to K tiers. */
export function competitiveBoostPpm(dw: number, scale: CompetitionScale, params: RewardParams): number {
  const { L, H, K } = scale;
  const rel = H <= L ? 0 : (Math.min(dw, H) - L) / (H - L);
  const soft = Math.pow(rel, params.alphaPpm / PPM);
  const abs = Math.min(1, dw / params.compWeeks);
  const q = Math.min(1, Math.max(0, soft * abs));
  const s = Math.floor(q * (K - 1));
  return Math.floor((params.compBoostMaxPpm * s) / (K - 1));
}

/** Step 11: the multiplier frozen for the next epoch. */
export function nextMultiplierPpm(
  boostEligible: boolean,
  baseBoostPpm: number,
  compBoostPpm: number,
  params: RewardParams,
): number {
  return boostEligible ? Math.min(params.maxMultiplierPpm, PPM + baseBoostPpm + compBoostPpm) : PPM;
}

/** What one account's close produced (the simulation's per-account output, plus detail). */
export type AccountOutcome = {
  readonly account: string;
  readonly base: bigint;
  readonly reward: bigint;
  readonly cumulativeReward: bigint;
  /** The snapshot that paid this epoch (step 1). */
  readonly multiplierPpm: number;
  readonly nextMultiplierPpm: number;
  readonly boostEligible: boolean;
  readonly validator: boolean;
  readonly E: bigint;
  readonly D: bigint;
  readonly w: number;
  readonly baseBoostPpm: number;
  readonly compBoostPpm: number;
  readonly inCompetitiveSet: boolean;
};

export type CompetitionSummary = {
  readonly on: boolean;
  /** |O| and sum(E over O). */
  readonly size: number;
  readonly totalE: bigint;
  /** Present while competition is on. */
  readonly scale: CompetitionScale | undefined;
};

export type EpochClose = {
  /** Every account seen so far, in order of first appearance. */
  readonly states: ReadonlyMap<string, AccountState>;
  /** One per account, in the same order. */
  readonly outcomes: readonly AccountOutcome[];
  readonly competition: CompetitionSummary;
};

/** Steps 1-8 for one account, up to what the competitive steps need. */
type PartialClose = {
  readonly account: string;
  readonly previous: AccountState;
  readonly base: bigint;
  readonly bond: bigint;
  readonly registered: boolean;
  readonly suspended: boolean;
  readonly reward: bigint;
  readonly lifetime: bigint;
  readonly closedEpochs: number;
  readonly recent: readonly bigint[];
  readonly E: bigint;
  readonly boostEligible: boolean;
  readonly D: bigint;
  readonly w: number;
  readonly validator: boolean;
  readonly baseBoostPpm: number;
  readonly dw: number;
  readonly inSet: boolean;
};

function closeAccountSteps1to9(
  account: string,
  previous: AccountState,
  input: AccountEpochInput | undefined,
  params: RewardParams,
): PartialClose {
  // An account with no activity takes base = 0 and its last known bond and flags.
  const base = input?.base ?? 0n;
  const bond = input?.bond ?? previous.lastBond;
  const registered = input?.registered ?? previous.lastRegistered;
  const suspended = input?.suspended ?? previous.lastSuspended;

  const reward = payEpoch(previous, base, params);
  const lifetime = previous.lifetime + base;
  const closedEpochs = previous.closedEpochs + 1;
  const recent = pushRecent(previous.recent, base, params.obsWindowEpochs);
  const E = smoothEarnings(previous.E, observedWeeklyEarnings(recent, params), params);
  const boostEligible = isBoostEligible(registered, suspended, closedEpochs, lifetime, params);
  const D = earningsDenominator(E, params);
  const w = weeksBonded(bond, D);
  const validator = isValidator(previous.validator, boostEligible, bond, w, params);
  const baseBoostPpm = linearBoostPpm(w, params);
  const dw = excessWeeks(w, params);
  const inSet = inCompetitiveSet(boostEligible, dw, E, params);
  return {
    account, previous, base, bond, registered, suspended, reward, lifetime, closedEpochs, recent,
    E, boostEligible, D, w, validator, baseBoostPpm, dw, inSet,
  };
}

/**
 * Closes an epoch: pays it with each account's frozen snapshot, then freezes the next one.
 * Accounts in `states` but not in `inputs` take base = 0 and their last known bond and flags;
 * accounts in `inputs` not yet in `states` start from the initial state (appended in input order).
 * Accounts are compared as given: pass one canonical spelling per address.
 */
export function closeEpoch(
  states: ReadonlyMap<string, AccountState>,
  inputs: readonly AccountEpochInput[],
  params: RewardParams,
): EpochClose {
  const inputByAccount = new Map<string, AccountEpochInput>();
  for (const input of inputs) {
    if (inputByAccount.has(input.account)) throw new Error(`duplicate input for account ${input.account}`);
    inputByAccount.set(input.account, input);
  }
  const accounts = [...states.keys()];
  for (const input of inputs) if (!states.has(input.account)) accounts.push(input.account);

  const initial = initialAccountState(params);
  const partials = accounts.map((account) =>
    closeAccountSteps1to9(account, states.get(account) ?? initial, inputByAccount.get(account), params),
  );

  // Step 9 over all accounts, then step 10 against the set's scale.
  const members = partials.filter((p) => p.inSet);
  let totalE = 0n;
  for (const member of members) totalE += member.E;
  const on = isCompetitionOn(members.length, totalE, params);
  const scale = on ? competitionScale(members.map((m) => m.dw), params) : undefined;

  const nextStates = new Map<string, AccountState>();
  const outcomes: AccountOutcome[] = [];
  for (const p of partials) {
    const compBoostPpm = scale !== undefined && p.inSet ? competitiveBoostPpm(p.dw, scale, params) : 0;
    const multiplierPpm = nextMultiplierPpm(p.boostEligible, p.baseBoostPpm, compBoostPpm, params);
    const cumulativeReward = p.previous.cumulativeReward + p.reward;
    nextStates.set(p.account, {
      E: p.E,
      lifetime: p.lifetime,
      closedEpochs: p.closedEpochs,
      recent: p.recent,
      validator: p.validator,
      multiplierPpm,
      D: p.D,
      boostEligible: p.boostEligible,
      cumulativeReward,
      lastBond: p.bond,
      lastRegistered: p.registered,
      lastSuspended: p.suspended,
    });
    outcomes.push({
      account: p.account,
      base: p.base,
      reward: p.reward,
      cumulativeReward,
      multiplierPpm: p.previous.multiplierPpm,
      nextMultiplierPpm: multiplierPpm,
      boostEligible: p.boostEligible,
      validator: p.validator,
      E: p.E,
      D: p.D,
      w: p.w,
      baseBoostPpm: p.baseBoostPpm,
      compBoostPpm,
      inCompetitiveSet: p.inSet,
    });
  }
  return { states: nextStates, outcomes, competition: { on, size: members.length, totalE, scale } };
}
