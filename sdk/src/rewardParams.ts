/**
 * The reward engine's governance parameters (rewards.md, "Parameters"): defaults, bounds and
 * invariants in one place. Parsed once into a typed, frozen RewardParams; the engine trusts it.
 *
 * The bounds here are the off-chain half of what ProtocolParams enforces on-chain; keep them equal.
 */
import { InputError, MAX_UINT256, readInteger, readObject, readWei, rejectUnknownKeys } from "./jsonInput.ts";

export type RewardParams = {
  /** Multiplier epoch length in hours; divides 168. */
  readonly epochHours: number;
  readonly lambdaUpPpm: number;
  readonly lambdaDownPpm: number;
  readonly obsWindowEpochs: number;
  readonly minHistoryEpochs: number;
  /** Lifetime base earnings (wei) needed for boost. */
  readonly minLifetimeBase: bigint;
  /** Floor of the earnings denominator D (wei). */
  readonly earningsFloor: bigint;
  readonly boostCapRhoPpm: number;
  /** Tfull: weeks bonded for the full linear boost. */
  readonly fullWeeks: number;
  /** Tcomp: excess weeks for the full absolute competitive score. */
  readonly compWeeks: number;
  readonly baseBoostMaxPpm: number;
  readonly compBoostMaxPpm: number;
  readonly maxMultiplierPpm: number;
  readonly percentile: number;
  readonly alphaPpm: number;
  readonly kappaPpm: number;
  readonly kMin: number;
  readonly kMax: number;
  readonly compMinAccounts: number;
  readonly compMinEarnings: bigint;
  readonly compMinTotalEarnings: bigint;
  readonly validatorEnterWeeks: number;
  readonly validatorExitWeeks: number;
  /** Minimum active bond (wei of POD) for validators. */
  readonly validatorMinBond: bigint;
};

export type RewardParamName = keyof RewardParams;
type IntegerParamName = { [K in RewardParamName]: RewardParams[K] extends number ? K : never }[RewardParamName];
type WeiParamName = { [K in RewardParamName]: RewardParams[K] extends bigint ? K : never }[RewardParamName];

export const PPM = 1_000_000;
const E18 = 10n ** 18n;

export const DEFAULT_REWARD_PARAMS: RewardParams = Object.freeze({
  epochHours: 24,
  lambdaUpPpm: 500_000,
  lambdaDownPpm: 100_000,
  obsWindowEpochs: 7,
  minHistoryEpochs: 7,
  minLifetimeBase: 50n * E18,
  earningsFloor: 1n * E18,
  boostCapRhoPpm: 3_000_000,
  fullWeeks: 13,
  compWeeks: 13,
  baseBoostMaxPpm: 200_000,
  compBoostMaxPpm: 100_000,
  maxMultiplierPpm: 1_300_000,
  percentile: 95,
  alphaPpm: 750_000,
  kappaPpm: 1_000_000,
  kMin: 2,
  kMax: 11,
  compMinAccounts: 10,
  compMinEarnings: 0n,
  compMinTotalEarnings: 0n,
  validatorEnterWeeks: 13,
  validatorExitWeeks: 10,
  validatorMinBond: 100_000n * E18,
});

const ANY = Number.MAX_SAFE_INTEGER;

/** [min, max] of each integer parameter (JSON numbers). */
const INTEGER_BOUNDS: { readonly [K in IntegerParamName]: readonly [number, number] } = {
  epochHours: [1, 168],
  lambdaUpPpm: [1, PPM],
  lambdaDownPpm: [1, PPM],
  obsWindowEpochs: [1, ANY],
  minHistoryEpochs: [0, ANY],
  boostCapRhoPpm: [0, ANY],
  fullWeeks: [1, ANY], // divides w
  compWeeks: [1, ANY], // divides dw
  baseBoostMaxPpm: [0, PPM],
  compBoostMaxPpm: [0, PPM],
  // >= 1x keeps every integer division in the engine on non-negative operands (floor = truncate).
  maxMultiplierPpm: [PPM, 1_300_000],
  percentile: [1, 100],
  alphaPpm: [1, PPM], // an exponent that softens: (0, 1]
  kappaPpm: [1, ANY],
  kMin: [2, ANY], // K - 1 divides in step 10
  kMax: [2, ANY],
  compMinAccounts: [1, ANY], // O is never empty while competition is on
  validatorEnterWeeks: [0, ANY],
  validatorExitWeeks: [0, ANY],
};

/** [min, max] of each wei parameter (decimal strings). */
const WEI_BOUNDS: { readonly [K in WeiParamName]: readonly [bigint, bigint] } = {
  minLifetimeBase: [0n, MAX_UINT256],
  earningsFloor: [1n, MAX_UINT256], // divides w = bond / D
  compMinEarnings: [0n, MAX_UINT256],
  compMinTotalEarnings: [0n, MAX_UINT256],
  validatorMinBond: [0n, MAX_UINT256],
};

export const REWARD_PARAM_NAMES = Object.keys(DEFAULT_REWARD_PARAMS) as readonly RewardParamName[];

function isIntegerParam(name: RewardParamName): name is IntegerParamName {
  return name in INTEGER_BOUNDS;
}

/**
 * Reads a JSON object holding any subset of the parameters over `base`, then checks the
 * invariants on the result. Field names in errors are `${field}.${name}`.
 * @example parseRewardParams({ lambdaUpPpm: 400000 }, "params").lambdaUpPpm // 400000
 */
export function parseRewardParams(
  input: unknown,
  field: string,
  base: RewardParams = DEFAULT_REWARD_PARAMS,
  options: { checkInvariants?: boolean } = {},
): RewardParams {
  const object = readObject(input, field);
  rejectUnknownKeys(object, REWARD_PARAM_NAMES, field, "parameter");
  const merged: Record<string, number | bigint> = { ...base };
  for (const name of REWARD_PARAM_NAMES) {
    const value = object[name];
    if (value === undefined) continue;
    if (isIntegerParam(name)) {
      const [min, max] = INTEGER_BOUNDS[name];
      merged[name] = readInteger(value, `${field}.${name}`, min, max);
    } else {
      const [min, max] = WEI_BOUNDS[name];
      merged[name] = readWei(value, `${field}.${name}`, min, max);
    }
  }
  const params = merged as RewardParams;
  // A caller layering several sources checks the relations once, on the final set.
  if (options.checkInvariants !== false) checkInvariants(params, field);
  return Object.freeze(params);
}

/** The relations between parameters (each failure names the parameter to change). */
export function checkInvariants(params: RewardParams, field: string): void {
  if (168 % params.epochHours !== 0) {
    throw new InputError(`${field}.epochHours`, `must divide 168 (a week), got ${params.epochHours}`);
  }
  if (params.lambdaDownPpm >= params.lambdaUpPpm) {
    throw new InputError(
      `${field}.lambdaDownPpm`,
      `must be below lambdaUpPpm (${params.lambdaUpPpm}), got ${params.lambdaDownPpm}`,
    );
  }
  if (params.kMin > params.kMax) {
    throw new InputError(`${field}.kMin`, `must not exceed kMax (${params.kMax}), got ${params.kMin}`);
  }
  if (params.validatorExitWeeks > params.validatorEnterWeeks) {
    throw new InputError(
      `${field}.validatorExitWeeks`,
      `must not exceed validatorEnterWeeks (${params.validatorEnterWeeks}), got ${params.validatorExitWeeks}`,
    );
  }
}

/** nWeek = 168 / epochHours: epochs per week. */
export function epochsPerWeek(params: RewardParams): number {
  return 168 / params.epochHours;
}
