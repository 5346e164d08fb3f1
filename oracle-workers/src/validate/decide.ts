/**
 * When a validator convicts a node: when the probability that an HONEST node shows failures at
 * least this bad is below `convictBelow` (1e-6 by default).
 *
 * The rule, per check c that ran on the node's samples:
 *   - p_c is the calibrated rate at which an honest node fails c (numeric noise, batching,
 *     hardware differences), 1e-3 unless calibration says otherwise;
 *   - a failure of weight w (strikes.ts: 1 + floor(severity * (maxWeight - 1))) counts as w
 *     independent failed trials, so the check has n_c = checked + (strikes - failed) trials with
 *     k_c = strikes failures, and P_c = P(X >= k_c), X ~ Binomial(n_c, p_c);
 *   - several checks are several tests, so the node's figure is Bonferroni's
 *     pHonest = min(1, m * min_c P_c), m the number of checks that ran.
 * It convicts when pHonest < convictBelow and at least `minFailedSamples` distinct samples
 * failed (one sampled request, however bad, never convicts alone: a glitch of the validator
 * itself must not cost a node its bond).
 *
 * The tail is computed in log space (natural logs, log-sum-exp over the binomial terms), so a
 * probability like 1e-900 is -2072.3, not 0 by underflow; `pHonest` is its exp (0 when below
 * ~1e-308) and `log10PHonest` keeps the exact magnitude.
 */
import type { CheckName } from "./types.ts";
import { CHECK_NAMES, type NodeRecord } from "./strikes.ts";

export const DEFAULT_FALSE_FAILURE_RATE = 1e-3;

export type DecideParams = {
  /** Calibrated honest false-failure rate per check, each in (0, 1). */
  falseFailureRate: Readonly<Record<CheckName, number>>;
  /** Convict when pHonest is strictly below this. */
  convictBelow: number;
  /** Distinct failing samples needed before any conviction. */
  minFailedSamples: number;
};

export const DEFAULT_DECIDE_PARAMS: DecideParams = {
  falseFailureRate: { logprobs: DEFAULT_FALSE_FAILURE_RATE, sampling: DEFAULT_FALSE_FAILURE_RATE, tokenization: DEFAULT_FALSE_FAILURE_RATE, speed: DEFAULT_FALSE_FAILURE_RATE, usage: DEFAULT_FALSE_FAILURE_RATE },
  convictBelow: 1e-6,
  minFailedSamples: 2,
};

export type Decision = {
  convict: boolean;
  /** Probability that an honest node fails at least this badly (0 when it underflows a double). */
  pHonest: number;
  /** log10 of pHonest, exact even where pHonest underflows (-Infinity only when a rate is 0). */
  log10PHonest: number;
  /** The check with the smallest tail; null when no check ran. */
  check: CheckName | null;
  reason: string;
};

export class DecideParamsError extends Error {
  override name = "DecideParamsError";
}

const LN10 = Math.log(10);

/** ln C(n, k), summed term by term over the smaller side (exact to double rounding). */
export function logChoose(n: number, k: number): number {
  if (!Number.isSafeInteger(n) || !Number.isSafeInteger(k) || n < 0) throw new RangeError(`logChoose(${n}, ${k})`);
  if (k < 0 || k > n) return -Infinity;
  const m = Math.min(k, n - k);
  let sum = 0;
  for (let j = 0; j < m; j++) sum += Math.log((n - j) / (j + 1));
  return sum;
}

/**
 * ln P(X >= k) for X ~ Binomial(n, p), in log space: the terms from k up are summed as
 * exp(term - max), stopping once they are past the mode and 50 nats (1e-22) below the largest.
 */
export function logBinomialTail(n: number, k: number, p: number): number {
  if (!Number.isSafeInteger(n) || n < 0 || !Number.isSafeInteger(k)) throw new RangeError(`logBinomialTail(${n}, ${k}, ${p})`);
  if (!(p >= 0 && p <= 1)) throw new RangeError(`probability out of range: ${p}`);
  if (k <= 0) return 0;
  if (k > n) return -Infinity;
  if (p === 0) return -Infinity;
  if (p === 1) return 0;
  const logRatio = Math.log(p) - Math.log1p(-p);
  const mode = Math.floor((n + 1) * p);
  let term = logChoose(n, k) + k * Math.log(p) + (n - k) * Math.log1p(-p);
  let max = term;
  let sum = 1; // sum of exp(term_i - max)
  for (let i = k + 1; i <= n; i++) {
    term += Math.log((n - i + 1) / i) + logRatio;
    if (term > max) {
      sum = sum * Math.exp(max - term) + 1;
      max = term;
    } else {
      sum += Math.exp(term - max);
      if (i > mode && term < max - 50) break;
    }
  }
  return Math.min(0, max + Math.log(sum));
}

function checkParams(params: DecideParams): void {
  for (const check of CHECK_NAMES) {
    const p = params.falseFailureRate[check];
    if (!(p > 0 && p < 1)) throw new DecideParamsError(`falseFailureRate.${check} must be within (0, 1), got ${p}`);
  }
  if (!(params.convictBelow > 0 && params.convictBelow < 1)) throw new DecideParamsError(`convictBelow must be within (0, 1), got ${params.convictBelow}`);
  if (!Number.isSafeInteger(params.minFailedSamples) || params.minFailedSamples < 1) throw new DecideParamsError(`minFailedSamples must be an integer >= 1, got ${params.minFailedSamples}`);
}

/** ln P_c for one check of the record (0 when it never failed or never ran). */
export function checkLogTail(record: NodeRecord, check: CheckName, rate: number): number {
  const { checked, failed, strikes } = record.byCheck[check];
  return logBinomialTail(checked + (strikes - failed), strikes, rate);
}

/** The decision on `record` (pure; see the module comment for the rule). */
export function decide(record: NodeRecord, params: DecideParams = DEFAULT_DECIDE_PARAMS): Decision {
  checkParams(params);
  const ran = CHECK_NAMES.filter((c) => record.byCheck[c].checked > 0);
  if (ran.length === 0) return { convict: false, pHonest: 1, log10PHonest: 0, check: null, reason: "no sample checked yet" };
  let worst: CheckName = ran[0]!;
  let worstLog = Infinity;
  for (const check of ran) {
    const log = checkLogTail(record, check, params.falseFailureRate[check]);
    if (log < worstLog) [worst, worstLog] = [check, log];
  }
  const logP = Math.min(0, Math.log(ran.length) + worstLog);
  const pHonest = Math.exp(logP);
  const log10PHonest = logP / LN10;
  const tally = record.byCheck[worst];
  const summary =
    `${worst} failed ${tally.failed} of ${tally.checked} samples (${tally.strikes} strikes, honest rate ${params.falseFailureRate[worst]}); ` +
    `P(honest) = ${formatLog10(log10PHonest)} over ${ran.length} checks`;
  const below = logP < Math.log(params.convictBelow);
  if (!below) return { convict: false, pHonest, log10PHonest, check: worst, reason: `${summary}, not below ${params.convictBelow}` };
  if (record.failedSamples < params.minFailedSamples) {
    return { convict: false, pHonest, log10PHonest, check: worst, reason: `${summary}, but only ${record.failedSamples} failing sample(s) of the ${params.minFailedSamples} needed` };
  }
  return { convict: true, pHonest, log10PHonest, check: worst, reason: `${summary} < ${params.convictBelow}` };
}

/** 10^x written as `a.bce-N`, exact for magnitudes a double cannot hold. */
export function formatLog10(log10: number): string {
  if (log10 === -Infinity) return "0";
  const exponent = Math.floor(log10);
  let mantissa = 10 ** (log10 - exponent);
  let e = exponent;
  if (mantissa >= 9.995) [mantissa, e] = [1, e + 1];
  return `${mantissa.toFixed(2)}e${e}`;
}

/**
 * The exact probability that an honest node, failing one check at exactly `rate` per sample
 * (1 strike each, the other checks clean), is ever convicted within `samples` samples when
 * `decide` runs after every sample with `checks` checks running: the sequential (repeated
 * look) false-conviction risk, computed by dynamic programming over the failure count.
 */
export function honestConvictionRisk(samples: number, rate: number, checks = 5, params: DecideParams = DEFAULT_DECIDE_PARAMS): number {
  if (!(rate > 0 && rate < 1)) throw new RangeError(`rate must be within (0, 1), got ${rate}`);
  const logLimit = Math.log(params.convictBelow) - Math.log(checks);
  // alive[f]: probability of f failures so far without a conviction yet.
  let alive = [1];
  let convicted = 0;
  let boundary = 1; // the fewest failures that convict at the current n (non-decreasing in n)
  for (let n = 1; n <= samples; n++) {
    const next = new Array<number>(alive.length + 1).fill(0);
    for (let f = 0; f < alive.length; f++) {
      next[f]! += alive[f]! * (1 - rate);
      next[f + 1]! += alive[f]! * rate;
    }
    while (boundary <= n && !(boundary >= params.minFailedSamples && logBinomialTail(n, boundary, rate) < logLimit)) boundary++;
    for (let f = boundary; f < next.length; f++) convicted += next[f]!;
    alive = next.slice(0, Math.min(boundary, next.length));
  }
  return convicted;
}
