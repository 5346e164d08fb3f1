/**
 * The five checks on a sampled response, as pure functions returning a CheckResult each, and
 * validateSample, which runs them all (the recomputation goes through an injected recomputer).
 * Severity of a failure is 1 - threshold/measured for "at most" statistics: a response just over
 * its threshold weighs little, one far over it weighs almost 1.
 */
import type { Address } from "viem";
import type { EpochReceipt } from "../../../sdk/src/epochData.ts";
import { hashLogprobs, hashTokenIds, verifyReceipt } from "../../../sdk/src/receipt.ts";
import type { ValidatorSample } from "../../../gateway/src/store/types.ts";
import { DEFAULT_CHAT_FORMAT, formatChat, type ChatMessage } from "../../../node/src/engine/chat.ts";
import type { ModelCalibration } from "./calibration.ts";
import { RecomputeInputError, type LogprobRecomputer, type Recomputation } from "./recompute.ts";
import { replayParamsOf, type ReplayResult } from "./replay.ts";
import { editDistance, logprobStats, tokenizationStats, type ReportedLogprobs, type TextTokenizer } from "./stats.ts";
import type { CheckResult, SampleVerdict } from "./types.ts";

/** Governed decode speed of a model (tokens/s of one request). */
export type SpeedBounds = { minTokensPerSecond: number; maxTokensPerSecond: number };

export type BilledUsage = { promptTokens: number; completionTokens: number };

/** JSON has no Infinity: evidence keeps the largest finite number instead. */
function finite(x: number): number {
  return Number.isFinite(x) ? x : x < 0 ? -Number.MAX_VALUE : Number.MAX_VALUE;
}

function overSeverity(measured: number, threshold: number): number {
  if (!(measured > threshold)) return 0;
  return Number.isFinite(measured) && threshold > 0 ? Math.min(1, Math.max(0, 1 - threshold / measured)) : 1;
}

/** The mean overlap is a float sum of ratios: 4/5 at every position must equal a 0.8 minimum. */
const OVERLAP_EPSILON = 1e-9;

const fmt = (x: number): string => (Number.isFinite(x) ? x.toPrecision(3) : String(x));

/**
 * Compares the node's logprobs (chosen and top-k) with the approved model's. Fails on the worst of
 * max deviation, mean deviation and top-k overlap against the calibrated thresholds.
 */
export function logprobFingerprint(reported: ReportedLogprobs, recomputed: ReportedLogprobs, calibration: ModelCalibration): CheckResult {
  const s = logprobStats(reported, recomputed);
  const t = calibration.logprobs;
  const summary = `max |Δ| ${fmt(s.maxAbsDeviation)} (≤ ${fmt(t.maxAbsDeviation)}), mean |Δ| ${fmt(s.meanAbsDeviation)} (≤ ${fmt(t.meanAbsDeviation)}), top-k overlap ${s.topOverlap.toFixed(3)} (≥ ${t.minTopOverlap}) over ${s.positions} tokens`;
  if (!s.lengthsMatch) {
    return { check: "logprobs", pass: false, severity: 1, measured: reported.chosen.length, threshold: recomputed.chosen.length, detail: `reported ${reported.chosen.length} logprobs (${reported.top.length} top-k lists) for ${recomputed.chosen.length} output tokens` };
  }
  // Each statistic as a ratio to its threshold (> 1 fails); the worst one is reported.
  const overlapShortfall = 1 - s.topOverlap;
  const overlapAllowed = 1 - t.minTopOverlap;
  const candidates = [
    { ratio: s.maxAbsDeviation / t.maxAbsDeviation, measured: s.maxAbsDeviation, threshold: t.maxAbsDeviation, fail: s.maxAbsDeviation > t.maxAbsDeviation || Number.isNaN(s.maxAbsDeviation), severity: overSeverity(s.maxAbsDeviation, t.maxAbsDeviation) },
    { ratio: s.meanAbsDeviation / t.meanAbsDeviation, measured: s.meanAbsDeviation, threshold: t.meanAbsDeviation, fail: s.meanAbsDeviation > t.meanAbsDeviation, severity: overSeverity(s.meanAbsDeviation, t.meanAbsDeviation) },
    { ratio: overlapAllowed > 0 ? overlapShortfall / overlapAllowed : overlapShortfall > 0 ? Infinity : 0, measured: s.topOverlap, threshold: t.minTopOverlap, fail: s.topOverlap < t.minTopOverlap - OVERLAP_EPSILON, severity: t.minTopOverlap > 0 ? Math.min(1, (t.minTopOverlap - s.topOverlap) / t.minTopOverlap) : 0 },
  ];
  const failing = candidates.filter((c) => c.fail);
  const worst = (failing.length > 0 ? failing : candidates).reduce((a, b) => (b.ratio > a.ratio ? b : a));
  return {
    check: "logprobs",
    pass: failing.length === 0,
    severity: failing.length === 0 ? 0 : Math.max(...failing.map((c) => c.severity)),
    measured: finite(worst.measured),
    threshold: worst.threshold,
    detail: (failing.length === 0 ? "logprobs match the approved model: " : "logprobs differ from the approved model: ") + summary,
  };
}

export type TokenizationOptions = {
  eosTokenId: number;
  /** Stop strings of the request (the text is cut where one starts). */
  stops: readonly string[];
  /** The node's prompt ids and the request's prompt tokenized by the validator (null: not re-tokenizable). */
  prompt?: { claimed: readonly number[]; expected: readonly number[] | null } | undefined;
};

const sameIds = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((id, i) => id === b[i]);

/**
 * Every claimed id must be a token of the vocabulary and decode(ids) must reproduce the text
 * exactly (up to a stop string): a wrong tokenizer fails here. Re-tokenizing the text must give
 * nearly the claimed ids: edit distance within max(slack, ratio · length). Models may sample
 * non-canonical splits ("AAAA" as four "A"s), so that ratio is calibrated per model.
 */
export function tokenization(responseText: string, outputTokenIds: readonly number[], tokenizer: TextTokenizer, calibration: ModelCalibration, options: TokenizationOptions): CheckResult {
  const s = tokenizationStats(responseText, outputTokenIds, tokenizer, options.eosTokenId, options.stops);
  const t = calibration.tokenization;
  const length = Math.max(s.claimed, s.retokenized, 1);
  const allowed = Math.max(t.editSlackTokens, t.maxRelativeEditDistance * length);
  const threshold = allowed / length;
  const counts = `claimed ${s.claimed} ids, text re-tokenizes to ${s.retokenized}, edit distance ${s.editDistance} (≤ ${fmt(allowed)})`;
  const prompt = options.prompt;
  // The prompt's tokenization is exact (no sampling involved): a node with another tokenizer differs here.
  if (prompt !== undefined && prompt.expected !== null && !sameIds(prompt.claimed, prompt.expected)) {
    return { check: "tokenization", pass: false, severity: 1, measured: 1, threshold, detail: `prompt ids (${prompt.claimed.length}) are not the request's prompt tokenized (${prompt.expected.length} ids, edit distance ${editDistance(prompt.claimed, prompt.expected)}); ${counts}` };
  }
  if (s.unknownIds > 0) return { check: "tokenization", pass: false, severity: 1, measured: 1, threshold, detail: `${s.unknownIds} claimed ids are no token of the model's vocabulary; ${counts}` };
  if (!s.decodeMatches) return { check: "tokenization", pass: false, severity: 1, measured: 1, threshold, detail: `decoding the claimed ids does not give the returned text; ${counts}` };
  const pass = s.editDistance <= allowed;
  return {
    check: "tokenization",
    pass,
    severity: pass ? 0 : overSeverity(s.editDistance, allowed),
    measured: s.relativeEditDistance,
    threshold,
    detail: (pass ? "token ids match the text: " : "token ids do not match the text: ") + counts,
  };
}

/**
 * Decode-phase speed: (tokens - 1) tokens between the first and the last token. Timings are whole
 * milliseconds, so the true duration lies within ±1 ms; a node fails only when every duration in
 * that range is outside [min·(1-tol), max·(1+tol)].
 */
export function speed(tokens: number, firstTokenMs: number, totalMs: number, bounds: SpeedBounds, tolerance: number): CheckResult {
  const low = bounds.minTokensPerSecond * (1 - tolerance);
  const high = bounds.maxTokensPerSecond * (1 + tolerance);
  const decodeTokens = tokens - 1;
  const decodeMs = totalMs - firstTokenMs;
  if (!Number.isFinite(decodeMs) || decodeMs < 0 || firstTokenMs < 0) {
    return { check: "speed", pass: false, severity: 1, measured: finite(decodeMs), threshold: 0, detail: `impossible timings: first token at ${firstTokenMs} ms, last at ${totalMs} ms` };
  }
  if (decodeTokens < 1) return { check: "speed", pass: true, severity: 0, measured: 0, threshold: high, detail: "one token: no decode phase to time" };
  const slowest = (decodeTokens * 1000) / (decodeMs + 1);
  const fastest = decodeMs > 1 ? (decodeTokens * 1000) / (decodeMs - 1) : Infinity;
  const range = `${decodeTokens} tokens in ${decodeMs} ms (±1 ms)`;
  if (slowest > high) {
    return { check: "speed", pass: false, severity: overSeverity(slowest, high), measured: slowest, threshold: high, detail: `faster than the model allows: at least ${fmt(slowest)} tokens/s > ${fmt(high)} (${range})` };
  }
  if (fastest < low) {
    return { check: "speed", pass: false, severity: low > 0 ? Math.min(1, 1 - fastest / low) : 0, measured: fastest, threshold: low, detail: `slower than the model's minimum: at most ${fmt(fastest)} tokens/s < ${fmt(low)} (${range})` };
  }
  const rate = decodeMs > 0 ? (decodeTokens * 1000) / decodeMs : slowest;
  return { check: "speed", pass: true, severity: 0, measured: rate, threshold: high, detail: `${fmt(rate)} tokens/s within [${fmt(low)}, ${fmt(high)}] (${range})` };
}

/**
 * Billed token counts must equal the token ids (exactly: both sides count the same ids). `signed`,
 * when given, is the node's signed receipt's counts, held to the same rule.
 */
export function usage(billed: BilledUsage, promptTokenCount: number, outputTokenCount: number, signed?: { promptTokens: number; outputTokens: number }, requestPromptTokens?: number | null): CheckResult {
  const diffs = [Math.abs(billed.promptTokens - promptTokenCount), Math.abs(billed.completionTokens - outputTokenCount)];
  if (signed !== undefined) diffs.push(Math.abs(signed.promptTokens - promptTokenCount), Math.abs(signed.outputTokens - outputTokenCount));
  // Padding the prompt ids keeps ids and counts consistent: the request's own prompt is the yardstick.
  if (requestPromptTokens != null) diffs.push(Math.abs(billed.promptTokens - requestPromptTokens));
  const off = Math.max(...diffs.map((d) => (Number.isFinite(d) ? d : Number.MAX_VALUE)));
  const pass = off === 0;
  const claimed = `billed ${billed.promptTokens} + ${billed.completionTokens}` + (signed === undefined ? "" : `, signed ${signed.promptTokens} + ${signed.outputTokens}`);
  return {
    check: "usage",
    pass,
    // Counts are exact, so any difference is deliberate: at least half severe, more as it grows.
    severity: pass ? 0 : Math.min(1, 0.5 + off / Math.max(1, promptTokenCount + outputTokenCount)),
    measured: off,
    threshold: 0,
    detail: `${claimed} tokens for ${promptTokenCount} prompt + ${outputTokenCount} output ids` + (requestPromptTokens == null ? "" : ` (the request's prompt is ${requestPromptTokens} tokens)`) + (pass ? "" : `: off by ${off}`),
  };
}

/**
 * The output must be what the approved model samples with the request's parameters and the
 * node's seed (replay.ts): at most maxMismatchFraction of the positions may miss the replayed
 * draw. Severity is the fraction missed. `replay` null: sampled, yet no seed was reported.
 */
export function sampling(replay: ReplayResult | null, calibration: ModelCalibration): CheckResult {
  const allowed = calibration.sampling.maxMismatchFraction;
  if (replay === null) return { check: "sampling", pass: false, severity: 1, measured: 1, threshold: allowed, detail: "sampled output without a seed to replay it" };
  const missed = replay.mismatches.length;
  const fraction = replay.positions === 0 ? 0 : missed / replay.positions;
  const pass = fraction <= allowed;
  const where = missed === 0 ? "" : ` (first at ${replay.mismatches.slice(0, 5).join(", ")})`;
  return {
    check: "sampling",
    pass,
    severity: pass ? 0 : Math.min(1, fraction),
    measured: fraction,
    threshold: allowed,
    detail: `${missed} of ${replay.positions} tokens are not the replayed draw${where}` + (pass ? "" : ": the output was not sampled from the approved model"),
  };
}

/** The request's prompt tokenized as the node must have (chat format applied); null when it cannot be. */
export function requestPromptIds(sample: ValidatorSample, tokenizer: TextTokenizer, chatFormat: string = DEFAULT_CHAT_FORMAT): number[] | null {
  const { messages, prompt } = sample.request;
  try {
    if (messages !== undefined && messages.length > 0) return tokenizer.encode(formatChat(chatFormat, messages as ChatMessage[]).prompt);
    if (typeof prompt === "string") return tokenizer.encode(prompt);
  } catch {
    // A chat the format refuses: the node could not have served it either; other checks judge.
  }
  return null;
}

/** A sample as the gateway stores it; `flagged` when a user flagged the response. */
export type SampleInput = ValidatorSample & { flagged?: boolean | undefined };

/** The receipt fields a verdict needs (EpochReceipt and the gateway's CompletionReceipt both fit). */
export type SampleReceipt = Pick<EpochReceipt, "requestId" | "epoch" | "model" | "nodeAddress" | "nodeAccount" | "promptTokens" | "completionTokens" | "signedReceipt">;

/** Everything one model's validation needs; the recomputer must hold the approved weights. */
export type ValidationDeps = {
  recomputer: LogprobRecomputer;
  tokenizer: TextTokenizer;
  eosTokenId: number;
  calibration: ModelCalibration;
  speedBounds: SpeedBounds;
  /** Chat format of the model's manifest (adds its stop strings); default pod-plain-v1. */
  chatFormat?: string | undefined;
  /** The chain receipts must be signed for (a receipt of another chain is not this network's). */
  chainId?: number | undefined;
};

/**
 * The sample cannot be held against the node (not the receipt's request, not signed by the node,
 * ids or logprobs not the ones it signed) or the validator is misconfigured. No verdict is given.
 */
export class SampleMismatchError extends Error {
  override name = "SampleMismatchError";
  readonly requestId: string;
  constructor(requestId: string, message: string) {
    super(`sample ${requestId}: ${message}`);
    this.requestId = requestId;
  }
}

/** Evidence kept with a verdict: the recomputation and what the node signed. */
export type SampleRecomputation = { topK: number; recomputed: Recomputation | null };

/** Stop strings of the request: its `stop` parameter and the chat format's own. */
export function requestStops(sample: ValidatorSample, chatFormat: string = DEFAULT_CHAT_FORMAT): string[] {
  const raw = sample.request.params.stop;
  const stops = typeof raw === "string" ? [raw] : Array.isArray(raw) ? raw.filter((s): s is string => typeof s === "string") : [];
  if (sample.request.messages !== undefined && sample.request.messages.length > 0) {
    try {
      stops.push(...formatChat(chatFormat, sample.request.messages as ChatMessage[]).stop);
    } catch {
      // A format the node could not have served adds no stops; the tokenization check then judges.
    }
  }
  return stops.filter((s) => s.length > 0);
}

/**
 * Runs the five checks on one sampled response. The sample must be the one the node signed
 * (signer, prompt/output/logprobs hashes); otherwise SampleMismatchError, not a verdict.
 */
export async function validateSample(sample: SampleInput, receipt: SampleReceipt, deps: ValidationDeps): Promise<SampleVerdict> {
  const { requestId } = sample;
  if (receipt.requestId !== requestId) throw new SampleMismatchError(requestId, `receipt is for ${receipt.requestId}`);
  if (sample.request.model !== receipt.model) throw new SampleMismatchError(requestId, `request model ${sample.request.model} is not the receipt's ${receipt.model}`);
  const signed = receipt.signedReceipt;
  if (signed === null) throw new SampleMismatchError(requestId, "the receipt has no node signature");
  if (deps.chainId !== undefined && signed.chainId !== deps.chainId) throw new SampleMismatchError(requestId, `the receipt is signed for chain ${signed.chainId}, not ${deps.chainId}`);
  await checkSignedBy(requestId, receipt, signed);
  const r = signed.receipt;
  if (r.requestId !== requestId || r.modelId !== receipt.model) throw new SampleMismatchError(requestId, "the signed receipt names another request or model");
  if (hashTokenIds(sample.promptTokenIds) !== r.promptHash) throw new SampleMismatchError(requestId, "prompt ids are not the ones the node signed");
  if (hashTokenIds(sample.outputTokenIds) !== r.outputHash) throw new SampleMismatchError(requestId, "output ids are not the ones the node signed");
  if (hashLogprobs(sample.logprobs.chosen) !== r.logprobsHash) throw new SampleMismatchError(requestId, "logprobs are not the ones the node signed");

  // A few more alternatives than reported, so a near-tie swapped at the k-th place still matches by id.
  const topK = Math.max(0, ...sample.logprobs.top.map((t) => t.length)) + 2;
  let recomputed: Recomputation | null = null;
  let logprobs: CheckResult;
  // Not run when the ids cannot be scored (the logprobs failure covers that sample).
  let samplingResult: CheckResult | undefined;
  try {
    const replayParams = replayParamsOf(sample.request.params);
    const replay = replayParams === null ? undefined : { params: replayParams, tolerance: deps.calibration.sampling };
    recomputed = await deps.recomputer.recompute(sample.promptTokenIds, sample.outputTokenIds, topK, replay);
    if (recomputed.modelId !== receipt.model) throw new SampleMismatchError(requestId, `recomputer holds ${recomputed.modelId}, not ${receipt.model}`);
    logprobs = logprobFingerprint(sample.logprobs, recomputed, deps.calibration);
    samplingResult = sampling(replayParams === null ? null : (recomputed.replay ?? null), deps.calibration);
  } catch (error) {
    // Ids the approved model cannot score (out of vocabulary, past the context) are the node's claim.
    if (!(error instanceof RecomputeInputError)) throw error;
    logprobs = { check: "logprobs", pass: false, severity: 1, measured: 1, threshold: 0, detail: `the approved model cannot score the signed ids: ${error.message}` };
  }

  const expectedPrompt = requestPromptIds(sample, deps.tokenizer, deps.chatFormat);
  const results: CheckResult[] = [
    logprobs,
    ...(samplingResult === undefined ? [] : [samplingResult]),
    tokenization(sample.responseText, sample.outputTokenIds, deps.tokenizer, deps.calibration, { eosTokenId: deps.eosTokenId, stops: requestStops(sample, deps.chatFormat), prompt: { claimed: sample.promptTokenIds, expected: expectedPrompt } }),
    speed(r.outputTokens, r.firstTokenMs, r.totalMs, deps.speedBounds, deps.calibration.speed.tolerance),
    usage({ promptTokens: receipt.promptTokens, completionTokens: receipt.completionTokens }, sample.promptTokenIds.length, sample.outputTokenIds.length, { promptTokens: r.promptTokens, outputTokens: r.outputTokens }, expectedPrompt?.length ?? null),
  ];
  const recomputation: SampleRecomputation = { topK, recomputed };
  return {
    requestId,
    epoch: receipt.epoch,
    node: receipt.nodeAddress,
    account: receipt.nodeAccount,
    model: receipt.model,
    flagged: sample.flagged === true,
    results,
    pass: results.every((c) => c.pass),
    recomputation,
  };
}

async function checkSignedBy(requestId: string, receipt: SampleReceipt, signed: NonNullable<SampleReceipt["signedReceipt"]>): Promise<Address> {
  const check = await verifyReceipt(signed, { expectedSigner: receipt.nodeAddress });
  if (!check.valid) throw new SampleMismatchError(requestId, `node signature: ${check.reason}`);
  return check.signer;
}
