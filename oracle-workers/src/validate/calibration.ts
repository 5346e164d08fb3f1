/**
 * Per-model thresholds of the checks, and how they are derived from honest noise.
 *
 * calibrate() measures honest generations (the same statistics the checks compute) and puts each
 * threshold a safety margin above the worst honest value:
 * - logprobs: LOGPROB_MARGIN (100x) above the largest honest deviation, never below
 *   LOGPROB_FLOOR (1e-5, ten float32 ulps at |logprob| ~ 10). Honest batching noise on the tiny
 *   model is one float32 ulp (9.54e-7); perturbed weights (4-bit) deviate by >= 1e-2 on average
 *   and a substitute model by ~0.17, so 100x leaves a gap of two decades on either side.
 * - top-k overlap: honest overlap minus TOP_OVERLAP_SLACK (0.2), as near-ties may swap the k-th id.
 * - tokenization: decode(ids) == text and "every id is a vocabulary token" are exact and need no
 *   calibration. Re-tokenizing the text is not: a model may sample non-canonical splits, and a
 *   random-weight model does so heavily (up to 0.33 relative edit distance on 64 sampled tokens,
 *   1.0 when greedy decoding repeats "A" ten times, which re-tokenizes to 2 ids). The default ratio
 *   is therefore 1 (the statistic is reported, never fails) for the project's seeded models; a
 *   pretrained model can lower it per model by JSON after measuring a large honest set.
 *   calibrate() sets TOKENIZATION_MARGIN (1.5x) above the worst honest ratio, capped at 1, and
 *   never below the base value (rare honest repeats dominate the tail).
 * - speed: a relative tolerance on the governed [min, max] tokens/s (timings are whole ms).
 * - sampling (replay.ts): a draw within 1e-4 of the total mass of the node's token's interval
 *   (batching noise moves it by ~1e-6/temperature), a greedy token within 1e-4 of the best logit;
 *   at most half of the positions may miss. Honest nodes miss none; output the model did not
 *   sample misses nearly all (a near-uniform model reaches a given token with chance ~2e-4).
 */
import { logprobStats, tokenizationStats, type LogprobStats, type ReportedLogprobs, type TextTokenizer, type TokenizationStats } from "./stats.ts";

export type ModelCalibration = {
  logprobs: {
    /** Largest allowed |reported - recomputed| at any position (chosen or top-k). */
    maxAbsDeviation: number;
    /** Largest allowed mean |reported - recomputed| over chosen logprobs. */
    meanAbsDeviation: number;
    /** Smallest allowed mean top-k id overlap (0..1). */
    minTopOverlap: number;
  };
  tokenization: {
    /** Largest allowed edit distance / length between claimed ids and the re-tokenized text. */
    maxRelativeEditDistance: number;
    /** Edit distance always allowed, whatever the length (short outputs). */
    editSlackTokens: number;
  };
  speed: {
    /** Relative tolerance on the governed bounds: pass within [min·(1-t), max·(1+t)]. */
    tolerance: number;
  };
  sampling: {
    /** Slack on a replayed draw, as a fraction of the total probability mass. */
    tolerance: number;
    /** Slack on a greedy token's logit below the best one. */
    greedyLogitTolerance: number;
    /** Largest fraction of output positions the replayed draw may miss. */
    maxMismatchFraction: number;
  };
};

export const LOGPROB_MARGIN = 100;
export const LOGPROB_FLOOR = 1e-5;
export const TOP_OVERLAP_SLACK = 0.2;
export const TOKENIZATION_MARGIN = 1.5;

/** Defaults measured on pod-gpt2-tiny (see the module comment); fine for any float32 CPU/GPU node. */
export const DEFAULT_CALIBRATION: ModelCalibration = {
  logprobs: { maxAbsDeviation: 1e-4, meanAbsDeviation: 5e-5, minTopOverlap: 0.8 },
  tokenization: { maxRelativeEditDistance: 1, editSlackTokens: 4 },
  speed: { tolerance: 0.25 },
  sampling: { tolerance: 1e-4, greedyLogitTolerance: 1e-4, maxMismatchFraction: 0.5 },
};

export class CalibrationError extends Error {
  override name = "CalibrationError";
  readonly field: string;
  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.field = field;
  }
}

type Obj = Record<string, unknown>;

function section(raw: Obj, key: string, path: string): Obj {
  const v = raw[key];
  if (v === undefined) return {};
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new CalibrationError(`${path}.${key}`, "must be an object");
  return v as Obj;
}

function num(raw: Obj, key: string, path: string, fallback: number, min: number, max: number): number {
  const v = raw[key];
  if (v === undefined) return fallback;
  if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max) throw new CalibrationError(`${path}.${key}`, `must be a number in [${min}, ${max}] (got ${JSON.stringify(v)})`);
  return v;
}

/** Overrides `base` with the fields present in untrusted JSON (every field optional, all validated). */
export function parseCalibration(raw: unknown, base: ModelCalibration = DEFAULT_CALIBRATION, path = "calibration"): ModelCalibration {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new CalibrationError(path, "must be an object");
  const o = raw as Obj;
  for (const key of Object.keys(o)) if (!["logprobs", "tokenization", "speed", "sampling"].includes(key)) throw new CalibrationError(`${path}.${key}`, "unknown field");
  const lp = section(o, "logprobs", path);
  const tok = section(o, "tokenization", path);
  const speed = section(o, "speed", path);
  const replay = section(o, "sampling", path);
  return {
    logprobs: {
      maxAbsDeviation: num(lp, "maxAbsDeviation", `${path}.logprobs`, base.logprobs.maxAbsDeviation, 0, Infinity),
      meanAbsDeviation: num(lp, "meanAbsDeviation", `${path}.logprobs`, base.logprobs.meanAbsDeviation, 0, Infinity),
      minTopOverlap: num(lp, "minTopOverlap", `${path}.logprobs`, base.logprobs.minTopOverlap, 0, 1),
    },
    tokenization: {
      maxRelativeEditDistance: num(tok, "maxRelativeEditDistance", `${path}.tokenization`, base.tokenization.maxRelativeEditDistance, 0, 1),
      editSlackTokens: num(tok, "editSlackTokens", `${path}.tokenization`, base.tokenization.editSlackTokens, 0, 1e6),
    },
    speed: { tolerance: num(speed, "tolerance", `${path}.speed`, base.speed.tolerance, 0, 10) },
    sampling: {
      tolerance: num(replay, "tolerance", `${path}.sampling`, base.sampling.tolerance, 0, 1),
      greedyLogitTolerance: num(replay, "greedyLogitTolerance", `${path}.sampling`, base.sampling.greedyLogitTolerance, 0, Infinity),
      maxMismatchFraction: num(replay, "maxMismatchFraction", `${path}.sampling`, base.sampling.maxMismatchFraction, 0, 1),
    },
  };
}

/** Thresholds by model id: `{ "<modelId>": { logprobs?: {...}, ... } }`; models not listed get the defaults. */
export class CalibrationTable {
  private readonly byModel: ReadonlyMap<string, ModelCalibration>;
  private readonly fallback: ModelCalibration;

  constructor(byModel: ReadonlyMap<string, ModelCalibration> = new Map(), fallback: ModelCalibration = DEFAULT_CALIBRATION) {
    this.byModel = byModel;
    this.fallback = fallback;
  }

  static fromJson(raw: unknown, fallback: ModelCalibration = DEFAULT_CALIBRATION): CalibrationTable {
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new CalibrationError("calibration", "must be an object keyed by model id");
    const entries = Object.entries(raw as Obj).map(([model, value]) => [model, parseCalibration(value, fallback, `calibration.${model}`)] as const);
    return new CalibrationTable(new Map(entries), fallback);
  }

  for(modelId: string): ModelCalibration {
    return this.byModel.get(modelId) ?? this.fallback;
  }
}

/** One honest generation, measured with the checks' own statistics. */
export type HonestMeasurement = { logprobs: LogprobStats; tokenization?: TokenizationStats | undefined };

/** Measures one honest generation against its recomputation (tokenization too when a tokenizer is given). */
export function measureHonest(
  sample: { responseText: string; outputTokenIds: readonly number[]; logprobs: ReportedLogprobs },
  recomputed: ReportedLogprobs,
  text?: { tokenizer: TextTokenizer; eosTokenId: number; stops: readonly string[] },
): HonestMeasurement {
  return {
    logprobs: logprobStats(sample.logprobs, recomputed),
    tokenization: text === undefined ? undefined : tokenizationStats(sample.responseText, sample.outputTokenIds, text.tokenizer, text.eosTokenId, text.stops),
  };
}

export type CalibrationReport = {
  calibration: ModelCalibration;
  samples: number;
  honest: { maxAbsDeviation: number; meanAbsDeviation: number; minTopOverlap: number; maxRelativeEditDistance: number };
};

/**
 * Thresholds a safety margin above the worst of `honest` (see the module comment). Needs at least
 * one sample; use generations at several concurrencies so batching noise is in the measurement.
 */
export function calibrate(honest: readonly HonestMeasurement[], base: ModelCalibration = DEFAULT_CALIBRATION): CalibrationReport {
  if (honest.length === 0) throw new CalibrationError("honestSamples", "needs at least one honest sample");
  const worst = {
    maxAbsDeviation: Math.max(...honest.map((h) => h.logprobs.maxAbsDeviation)),
    meanAbsDeviation: Math.max(...honest.map((h) => h.logprobs.meanAbsDeviation)),
    minTopOverlap: Math.min(...honest.map((h) => h.logprobs.topOverlap)),
    maxRelativeEditDistance: Math.max(0, ...honest.flatMap((h) => (h.tokenization === undefined ? [] : [h.tokenization.relativeEditDistance]))),
  };
  if (![worst.maxAbsDeviation, worst.meanAbsDeviation].every(Number.isFinite)) throw new CalibrationError("honestSamples", "an honest sample has a non-finite deviation: not honest, or not the approved model");
  const hasTokenization = honest.some((h) => h.tokenization !== undefined);
  const calibration: ModelCalibration = {
    logprobs: {
      maxAbsDeviation: Math.max(LOGPROB_FLOOR, LOGPROB_MARGIN * worst.maxAbsDeviation),
      meanAbsDeviation: Math.max(LOGPROB_FLOOR, LOGPROB_MARGIN * worst.meanAbsDeviation),
      minTopOverlap: Math.max(0, worst.minTopOverlap - TOP_OVERLAP_SLACK),
    },
    tokenization: {
      maxRelativeEditDistance: hasTokenization ? Math.min(1, Math.max(base.tokenization.maxRelativeEditDistance, TOKENIZATION_MARGIN * worst.maxRelativeEditDistance)) : base.tokenization.maxRelativeEditDistance,
      editSlackTokens: base.tokenization.editSlackTokens,
    },
    speed: base.speed,
    sampling: base.sampling,
  };
  return { calibration, samples: honest.length, honest: worst };
}
