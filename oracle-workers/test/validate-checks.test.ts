/**
 * The validator's checks: each one's pass and fail edge on hand-made inputs, calibration, and
 * validateSample on real generations of the tiny model (honest alone and batched; substitute and
 * perturbed weights; perturbed logprobs; wrong tokenizer; inflated usage; impossible speed).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { getEncoding } from "js-tiktoken";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import type { LocalAccount } from "viem";
import { TINY, loadTiny, tinyService } from "../../node/test/fixtures.ts";
import { NodeService, type RunOutput } from "../../node/src/service.ts";
import type { ModelVariant } from "../../node/src/model/build.ts";
import { hashLogprobs, hashTokenIds, signReceipt } from "../../sdk/src/receipt.ts";
import type { InferenceResult } from "../../sdk/src/nodeProtocol.ts";
import { CalibrationError, CalibrationTable, DEFAULT_CALIBRATION, calibrate, measureHonest, parseCalibration, type ModelCalibration } from "../src/validate/calibration.ts";
import { SampleMismatchError, logprobFingerprint, requestStops, sampling, speed, tokenization, usage, validateSample, type SampleInput, type SampleReceipt, type ValidationDeps } from "../src/validate/checks.ts";
import { Recomputer } from "../src/validate/recompute.ts";
import { editDistance, logprobStats, tokenizationStats, type ReportedLogprobs } from "../src/validate/stats.ts";

const EOS = 50256;
const withCalibration = (patch: { logprobs?: Partial<ModelCalibration["logprobs"]>; tokenization?: Partial<ModelCalibration["tokenization"]> }): ModelCalibration => ({
  ...DEFAULT_CALIBRATION,
  logprobs: { ...DEFAULT_CALIBRATION.logprobs, ...patch.logprobs },
  tokenization: { ...DEFAULT_CALIBRATION.tokenization, ...patch.tokenization },
});

// ---------------------------------------------------------------- logprob fingerprint edges

/** 10 positions, top-5 ids 100j..100j+4, chosen = the best one. */
type Logprobs = { chosen: number[]; top: { tokenId: number; logprob: number }[][] };
function baseline(): Logprobs {
  const top = Array.from({ length: 10 }, (_, j) => Array.from({ length: 5 }, (_, k) => ({ tokenId: 100 * j + k, logprob: Math.fround(-9.5 - 0.1 * k - 0.01 * j) })));
  return { chosen: top.map((t) => t[0]!.logprob), top };
}
const shifted = (r: ReportedLogprobs, delta: (j: number) => number): ReportedLogprobs => ({ chosen: r.chosen.map((c, j) => c + delta(j)), top: r.top.map((t) => t.map((a) => ({ ...a }))) });

test("logprobs: honest float32 noise (1e-6) passes; identical passes with deviation 0", () => {
  const recomputed = baseline();
  const same = logprobFingerprint(recomputed, recomputed, DEFAULT_CALIBRATION);
  assert.equal(same.pass, true);
  assert.equal(same.severity, 0);
  const noisy = logprobFingerprint(shifted(recomputed, (j) => (j % 2 ? 1e-6 : -1e-6)), recomputed, DEFAULT_CALIBRATION);
  assert.equal(noisy.pass, true, noisy.detail);
});

test("logprobs: max deviation just inside passes, just outside fails", () => {
  const recomputed = baseline();
  const max = DEFAULT_CALIBRATION.logprobs.maxAbsDeviation;
  const inside = logprobFingerprint(shifted(recomputed, (j) => (j === 3 ? 0.99 * max : 0)), recomputed, DEFAULT_CALIBRATION);
  assert.equal(inside.pass, true, inside.detail);
  const outside = logprobFingerprint(shifted(recomputed, (j) => (j === 3 ? 1.01 * max : 0)), recomputed, DEFAULT_CALIBRATION);
  assert.equal(outside.pass, false);
  assert.equal(outside.threshold, max);
  assert.ok(Math.abs(outside.measured - 1.01 * max) < 1e-9);
  assert.ok(outside.severity > 0 && outside.severity < 0.05, `barely over weighs little (${outside.severity})`);
  // A top-k alternative's logprob counts like the chosen one.
  const topOff = baseline();
  topOff.top[5]![2]!.logprob += 1.01 * max;
  assert.equal(logprobFingerprint(topOff, recomputed, DEFAULT_CALIBRATION).pass, false);
});

test("logprobs: mean deviation just inside passes, just outside fails (every position off a little)", () => {
  const recomputed = baseline();
  const mean = DEFAULT_CALIBRATION.logprobs.meanAbsDeviation;
  assert.equal(logprobFingerprint(shifted(recomputed, () => 0.99 * mean), recomputed, DEFAULT_CALIBRATION).pass, true);
  const outside = logprobFingerprint(shifted(recomputed, () => 1.01 * mean), recomputed, DEFAULT_CALIBRATION);
  assert.equal(outside.pass, false);
  assert.equal(outside.threshold, mean);
});

test("logprobs: top-k overlap at the minimum passes, below fails", () => {
  const recomputed = baseline();
  const swapOne = baseline();
  swapOne.top.forEach((t, j) => (t[4] = { tokenId: 90_000 + j, logprob: t[4]!.logprob }));
  const atMin = logprobFingerprint(swapOne, recomputed, DEFAULT_CALIBRATION); // overlap 4/5 = 0.8 everywhere
  assert.equal(atMin.pass, true, atMin.detail);
  swapOne.top[0]![3] = { tokenId: 80_000, logprob: swapOne.top[0]![3]!.logprob };
  const below = logprobFingerprint(swapOne, recomputed, DEFAULT_CALIBRATION);
  assert.equal(below.pass, false);
  assert.equal(below.threshold, DEFAULT_CALIBRATION.logprobs.minTopOverlap);
  assert.ok(below.measured < 0.8);
});

test("logprobs: a missing position, NaN or -Infinity against a finite value fails with full severity", () => {
  const recomputed = baseline();
  const short = { chosen: recomputed.chosen.slice(1), top: recomputed.top.slice(1) };
  assert.deepEqual([logprobFingerprint(short, recomputed, DEFAULT_CALIBRATION).pass, logprobFingerprint(short, recomputed, DEFAULT_CALIBRATION).severity], [false, 1]);
  for (const bad of [NaN, -Infinity]) {
    const r = logprobFingerprint(shifted(recomputed, (j) => (j === 0 ? bad : 0)), recomputed, DEFAULT_CALIBRATION);
    assert.equal(r.pass, false);
    assert.equal(r.severity, 1);
    assert.ok(Number.isFinite(r.measured), "evidence stays JSON-safe");
  }
  const bothInfinite = { chosen: [-Infinity], top: [[]] };
  assert.equal(logprobStats(bothInfinite, bothInfinite).maxAbsDeviation, 0);
});

// ---------------------------------------------------------------- tokenization edges

const setupModel = loadTiny();

test("tokenization: canonical ids pass; EOS and a stop string after the text are allowed", async () => {
  const { tokenizer } = await setupModel;
  const text = "Hello world, the validator checks tokens.";
  const ids = tokenizer.encode(text);
  const r = tokenization(text, ids, tokenizer, DEFAULT_CALIBRATION, { eosTokenId: EOS, stops: [] });
  assert.deepEqual([r.pass, r.measured], [true, 0]);
  assert.equal(tokenization(text, [...ids, EOS], tokenizer, DEFAULT_CALIBRATION, { eosTokenId: EOS, stops: [] }).pass, true);
  const withStop = tokenizer.encode(text + "\nUser: more");
  assert.equal(tokenization(text, withStop, tokenizer, DEFAULT_CALIBRATION, { eosTokenId: EOS, stops: ["\nUser:"] }).pass, true);
  const notStop = tokenization(text, withStop, tokenizer, DEFAULT_CALIBRATION, { eosTokenId: EOS, stops: ["\nSystem:"] });
  assert.deepEqual([notStop.pass, notStop.severity], [false, 1]);
});

test("tokenization: edit distance at the allowed bound passes, one below the bound fails", async () => {
  const { tokenizer } = await setupModel;
  const text = "Validators recompute logprobs and compare tokens with the text";
  // The same text split into one token per character: decodes identically, far from canonical.
  const perChar = [...text].map((c) => tokenizer.encode(c)[0]!);
  assert.equal(tokenizer.decode(perChar), text);
  const s = tokenizationStats(text, perChar, tokenizer, EOS, []);
  assert.equal(s.editDistance, editDistance(perChar, tokenizer.encode(text)));
  const length = Math.max(s.claimed, s.retokenized);
  const atBound = withCalibration({ tokenization: { maxRelativeEditDistance: s.editDistance / length, editSlackTokens: 0 } });
  assert.equal(tokenization(text, perChar, tokenizer, atBound, { eosTokenId: EOS, stops: [] }).pass, true);
  const below = withCalibration({ tokenization: { maxRelativeEditDistance: (s.editDistance - 1) / length, editSlackTokens: 0 } });
  const r = tokenization(text, perChar, tokenizer, below, { eosTokenId: EOS, stops: [] });
  assert.equal(r.pass, false);
  assert.ok(r.measured > r.threshold);
  // The absolute slack covers short outputs whatever the ratio.
  const slack = withCalibration({ tokenization: { maxRelativeEditDistance: 0, editSlackTokens: s.editDistance } });
  assert.equal(tokenization(text, perChar, tokenizer, slack, { eosTokenId: EOS, stops: [] }).pass, true);
});

test("tokenization: ids outside the vocabulary fail even though they decode to nothing (invisible inflation)", async () => {
  const { tokenizer } = await setupModel;
  const text = "Counted but never seen";
  const r = tokenization(text, [...tokenizer.encode(text), 60_000, 70_000], tokenizer, DEFAULT_CALIBRATION, { eosTokenId: EOS, stops: [] });
  assert.deepEqual([r.pass, r.severity], [false, 1]);
  assert.match(r.detail, /2 claimed ids are no token/);
});

test("tokenization: ids of another tokenizer (cl100k) fail: they do not decode to the text", async () => {
  const { tokenizer } = await setupModel;
  const text = "The quick brown fox jumps over the lazy dog, twice.";
  const wrong = getEncoding("cl100k_base").encode(text);
  const r = tokenization(text, wrong, tokenizer, DEFAULT_CALIBRATION, { eosTokenId: EOS, stops: [] });
  assert.deepEqual([r.pass, r.severity], [false, 1]);
  assert.match(r.detail, /does not give the returned text/);
});

// ---------------------------------------------------------------- speed and usage edges

test("speed: just inside and just outside both governed bounds (±1 ms benefit of the doubt, 25% tolerance)", () => {
  const bounds = { minTokensPerSecond: 10, maxTokensPerSecond: 100 };
  const tol = 0.25; // allowed [7.5, 125] tokens/s; 11 tokens = 10 decode tokens
  const at = (decodeMs: number) => speed(11, 50, 50 + decodeMs, bounds, tol);
  assert.equal(at(79).pass, true); // 10 tokens in 80 ms at best: exactly 125/s
  const tooFast = at(78);
  assert.deepEqual([tooFast.pass, tooFast.threshold], [false, 125]);
  assert.match(tooFast.detail, /faster/);
  assert.equal(at(1334).pass, true); // 10 tokens in 1333 ms at best: 7.502/s
  const tooSlow = at(1335);
  assert.deepEqual([tooSlow.pass, tooSlow.threshold], [false, 7.5]);
  assert.match(tooSlow.detail, /slower/);
});

test("speed: impossible claims fail (all tokens in the same millisecond, time running backwards); one token passes", () => {
  const bounds = { minTokensPerSecond: 1, maxTokensPerSecond: 1000 };
  const instant = speed(64, 10, 10, bounds, 0.25);
  assert.equal(instant.pass, false);
  assert.ok(instant.severity > 0.9);
  assert.equal(speed(64, 10, 5, bounds, 0.25).pass, false);
  assert.equal(speed(1, 10, 10, bounds, 0.25).pass, true);
});

test("usage: exact counts pass; one token more or less, billed or signed, fails", () => {
  assert.equal(usage({ promptTokens: 7, completionTokens: 20 }, 7, 20, { promptTokens: 7, outputTokens: 20 }).pass, true);
  const inflated = usage({ promptTokens: 7, completionTokens: 21 }, 7, 20);
  assert.deepEqual([inflated.pass, inflated.measured, inflated.threshold], [false, 1, 0]);
  assert.ok(inflated.severity >= 0.5);
  assert.equal(usage({ promptTokens: 6, completionTokens: 20 }, 7, 20).pass, false);
  assert.equal(usage({ promptTokens: 7, completionTokens: 20 }, 7, 20, { promptTokens: 7, outputTokens: 40 }).pass, false);
});

// ---------------------------------------------------------------- calibration

test("calibration: JSON overrides per model, validated; unknown fields and bad values refused", () => {
  const table = CalibrationTable.fromJson({ "pod-gpt2-100m": { logprobs: { maxAbsDeviation: 1e-3 }, speed: { tolerance: 0.5 } } });
  assert.equal(table.for("pod-gpt2-100m").logprobs.maxAbsDeviation, 1e-3);
  assert.equal(table.for("pod-gpt2-100m").logprobs.meanAbsDeviation, DEFAULT_CALIBRATION.logprobs.meanAbsDeviation);
  assert.equal(table.for("pod-gpt2-100m").speed.tolerance, 0.5);
  assert.deepEqual(table.for(TINY), DEFAULT_CALIBRATION);
  assert.throws(() => parseCalibration({ logprobs: { maxAbsDeviation: -1 } }), (e: unknown) => e instanceof CalibrationError && e.field === "calibration.logprobs.maxAbsDeviation");
  assert.throws(() => parseCalibration({ logprob: {} }), CalibrationError);
  assert.throws(() => parseCalibration({ logprobs: { minTopOverlap: 2 } }), CalibrationError);
  assert.throws(() => calibrate([]), CalibrationError);
});

// ---------------------------------------------------------------- real generations

const CHAIN_ID = 31337;
const OPERATOR = privateKeyToAccount(generatePrivateKey()).address;

const setup = (async () => {
  await setupModel; // one build of the tiny model, not two racing
  const { service, model } = await tinyService();
  const recomputer = await Recomputer.load({ modelId: TINY, folder: model.folder, manifestSha256: model.manifestSha256 }, { provider: "cpu", intraOpThreads: 1 });
  const deps: ValidationDeps = {
    recomputer,
    tokenizer: model.tokenizer,
    eosTokenId: model.manifest.eosTokenId,
    calibration: DEFAULT_CALIBRATION,
    // Wide enough for a loaded CI machine; the speed edges are tested above.
    speedBounds: { minTokensPerSecond: 0.5, maxTokensPerSecond: 5_000 },
  };
  return { service, model, deps };
})();

type Request = { model: string; prompt?: string; messages?: { role: string; content: string }[]; [key: string]: unknown };

/** The sample and receipt the gateway would store for `out`, as served (honest). */
function honestPair(request: Request, out: RunOutput, node: LocalAccount): { sample: SampleInput; receipt: SampleReceipt } {
  const { result, receipt } = out;
  const { model, prompt, messages, ...params } = request;
  const sample: SampleInput = {
    requestId: result.requestId,
    request: { model, ...(prompt === undefined ? {} : { prompt }), ...(messages === undefined ? {} : { messages }), params: params as SampleInput["request"]["params"] },
    responseText: result.text,
    promptTokenIds: result.promptTokenIds,
    outputTokenIds: result.outputTokenIds,
    logprobs: { chosen: result.logprobs.map((l) => l.logprob), top: result.logprobs.map((l) => l.top.map((t) => ({ tokenId: t.tokenId, logprob: t.logprob }))) },
  };
  return { sample, receipt: { requestId: result.requestId, epoch: 4, model, nodeAddress: node.address, nodeAccount: OPERATOR, promptTokens: result.usage.promptTokens, completionTokens: result.usage.completionTokens, signedReceipt: receipt } };
}

/** What a dishonest node would sign for a (tampered) sample: hashes of exactly what it returned. */
async function dishonestPair(sample: SampleInput, claims: { model: string; startedAt: number; firstTokenMs: number; totalMs: number; promptTokens?: number; outputTokens?: number }, node: LocalAccount): Promise<{ sample: SampleInput; receipt: SampleReceipt }> {
  const promptTokens = claims.promptTokens ?? sample.promptTokenIds.length;
  const outputTokens = claims.outputTokens ?? sample.outputTokenIds.length;
  const signed = await signReceipt(node, {
    requestId: sample.requestId,
    modelId: claims.model,
    promptHash: hashTokenIds(sample.promptTokenIds),
    outputHash: hashTokenIds(sample.outputTokenIds),
    logprobsHash: hashLogprobs(sample.logprobs.chosen),
    promptTokens,
    outputTokens,
    startedAt: claims.startedAt,
    firstTokenMs: claims.firstTokenMs,
    totalMs: claims.totalMs,
  }, CHAIN_ID);
  return { sample: { ...sample, request: { ...sample.request, model: claims.model } }, receipt: { requestId: sample.requestId, epoch: 4, model: claims.model, nodeAddress: node.address, nodeAccount: OPERATOR, promptTokens, completionTokens: outputTokens, signedReceipt: signed } };
}

const verdictOf = (results: { check: string; pass: boolean }[]): Record<string, boolean> => Object.fromEntries(results.map((r) => [r.check, r.pass]));
const ALL_PASS = { logprobs: true, sampling: true, tokenization: true, speed: true, usage: true };

/** One honest completion, kept for the tampering tests below. */
const honest = (async () => {
  const { service } = await setup;
  const request: Request = { model: TINY, prompt: "Sampled requests are validated by", max_tokens: 14, top_logprobs: 3, seed: 11 };
  return { request, out: await service.run(request) };
})();

test("honest node, one request: every check passes and the verdict names node, account and epoch", async () => {
  const { service, deps } = await setup;
  const { request, out } = await honest;
  const { sample, receipt } = honestPair(request, out, service.account);
  const verdict = await validateSample({ ...sample, flagged: true }, receipt, deps);
  assert.deepEqual(verdictOf(verdict.results), ALL_PASS, JSON.stringify(verdict.results, null, 1));
  assert.deepEqual([verdict.pass, verdict.flagged, verdict.epoch, verdict.node, verdict.account, verdict.model], [true, true, 4, service.account.address, OPERATOR, TINY]);
});

test("honest node batching concurrent requests (chat with stop strings, greedy and sampled) passes; calibration from them stays under the defaults", async (t) => {
  const { service, deps } = await setup;
  const requests: Request[] = [
    { model: TINY, messages: [{ role: "user", content: "Hello, who are you?" }], max_tokens: 12, top_logprobs: 2, seed: 1 },
    { model: TINY, prompt: "A", max_tokens: 10, temperature: 0, top_logprobs: 5, seed: 2 },
    { model: TINY, prompt: "Batched requests share decode steps, and padding must not matter", max_tokens: 12, stop: [" the", "."], top_logprobs: 1, seed: 3 },
    { model: TINY, prompt: "Numbers: 1, 2, 3,", max_tokens: 9, temperature: 0.7, top_p: 0.9, seed: 4 },
  ];
  const outs = await Promise.all(requests.map((r) => service.run(r)));
  const measurements = [];
  for (const [i, out] of outs.entries()) {
    const { sample, receipt } = honestPair(requests[i]!, out, service.account);
    const verdict = await validateSample(sample, receipt, deps);
    assert.deepEqual(verdictOf(verdict.results), ALL_PASS, JSON.stringify(verdict.results, null, 1));
    const recomputed = (verdict.recomputation as { recomputed: ReportedLogprobs }).recomputed;
    measurements.push(measureHonest(sample, recomputed, { tokenizer: deps.tokenizer, eosTokenId: EOS, stops: requestStops(sample) }));
  }
  const report = calibrate(measurements);
  t.diagnostic(`honest noise over ${report.samples} batched samples: max |Δ| ${report.honest.maxAbsDeviation.toExponential(3)}, mean |Δ| ${report.honest.meanAbsDeviation.toExponential(3)}, top overlap ${report.honest.minTopOverlap}, re-tokenization ${report.honest.maxRelativeEditDistance.toFixed(3)}`);
  assert.ok(report.honest.maxAbsDeviation <= 2e-6, "honest batching noise is float32 rounding");
  assert.ok(report.calibration.logprobs.maxAbsDeviation <= DEFAULT_CALIBRATION.logprobs.maxAbsDeviation);
  assert.ok(report.calibration.logprobs.maxAbsDeviation >= 100 * report.honest.maxAbsDeviation);
});

/** A node serving another variant's weights while claiming the approved model. */
async function servedBy(variant: ModelVariant): Promise<{ sample: SampleInput; receipt: SampleReceipt }> {
  const model = await loadTiny(variant);
  const node = privateKeyToAccount(generatePrivateKey());
  const service = new NodeService(node, [model], { maxBatch: 4, maxPrefillTokens: 4096, chainId: CHAIN_ID });
  const request: Request = { model: model.manifest.modelId, prompt: "Sampled requests are validated by", max_tokens: 12, top_logprobs: 3, seed: 11 };
  const out = await service.run(request);
  const { sample } = honestPair(request, out, node);
  const { timings } = out.result;
  return dishonestPair(sample, { model: TINY, ...timings }, node);
}

for (const variant of ["substitute", "perturbed"] as const) {
  test(`a node serving ${variant} weights as ${TINY} fails the logprob fingerprint (the replay may or may not notice)`, async () => {
    const { deps } = await setup;
    const { sample, receipt } = await servedBy(variant);
    const verdict = await validateSample(sample, receipt, deps);
    const { sampling: replayed, ...others } = verdictOf(verdict.results);
    assert.equal(typeof replayed, "boolean");
    const { sampling: _replay, ...expected } = ALL_PASS;
    assert.deepEqual(others, { ...expected, logprobs: false }, JSON.stringify(verdict.results, null, 1));
    const lp = verdict.results[0]!;
    assert.ok(lp.measured > 10 * lp.threshold, `${variant}: ${lp.detail}`);
  });
}

test("perturbed logprobs (one position off by 2e-4) fail the fingerprint", async () => {
  const { service, deps } = await setup;
  const { request, out } = await honest;
  const { sample } = honestPair(request, out, service.account);
  const chosen = sample.logprobs.chosen.map((c, j) => (j === 5 ? c + 2e-4 : c));
  const tampered = await dishonestPair({ ...sample, logprobs: { ...sample.logprobs, chosen } }, { model: TINY, ...out.result.timings }, service.account);
  const verdict = await validateSample(tampered.sample, tampered.receipt, deps);
  assert.deepEqual(verdictOf(verdict.results), { ...ALL_PASS, logprobs: false });
});

test("ids from a wrong tokenizer fail tokenization (and the approved model cannot score them)", async () => {
  const { service, deps } = await setup;
  const { request, out } = await honest;
  const { sample } = honestPair(request, out, service.account);
  const outputTokenIds = getEncoding("cl100k_base").encode(sample.responseText);
  const wrong = { ...sample, outputTokenIds, logprobs: { chosen: outputTokenIds.map(() => -10), top: outputTokenIds.map(() => []) } };
  const tampered = await dishonestPair(wrong, { model: TINY, ...out.result.timings }, service.account);
  const verdict = await validateSample(tampered.sample, tampered.receipt, deps);
  assert.equal(verdictOf(verdict.results).tokenization, false);
  assert.equal(verdictOf(verdict.results).logprobs, false);
  assert.equal(verdict.pass, false);
});

test("inflated usage (billed and signed output tokens + 5) fails usage only", async () => {
  const { service, deps } = await setup;
  const { request, out } = await honest;
  const { sample } = honestPair(request, out, service.account);
  const tampered = await dishonestPair(sample, { model: TINY, ...out.result.timings, outputTokens: sample.outputTokenIds.length + 5 }, service.account);
  const verdict = await validateSample(tampered.sample, tampered.receipt, deps);
  assert.deepEqual(verdictOf(verdict.results), { ...ALL_PASS, usage: false });
});

test("an impossible speed (every token in the first millisecond) fails speed only", async () => {
  const { service, deps } = await setup;
  const { request, out } = await honest;
  const { sample } = honestPair(request, out, service.account);
  const tampered = await dishonestPair(sample, { model: TINY, startedAt: out.result.timings.startedAt, firstTokenMs: 3, totalMs: 3 }, service.account);
  const verdict = await validateSample(tampered.sample, tampered.receipt, deps);
  assert.deepEqual(verdictOf(verdict.results), { ...ALL_PASS, speed: false });
});

test("a sample that is not what the node signed gives no verdict (SampleMismatchError)", async () => {
  const { service, deps } = await setup;
  const { request, out } = await honest;
  const { sample, receipt } = honestPair(request, out, service.account);
  await assert.rejects(validateSample({ ...sample, outputTokenIds: [...sample.outputTokenIds, 11] }, receipt, deps), SampleMismatchError);
  await assert.rejects(validateSample(sample, { ...receipt, nodeAddress: OPERATOR }, deps), SampleMismatchError);
  await assert.rejects(validateSample(sample, { ...receipt, signedReceipt: null }, deps), SampleMismatchError);
});

// ---------------------------------------------------------------- sampling replay, prompt tokenization, chain

test("sampling: the mismatch fraction passes at the calibrated maximum and fails above it; no seed fails", () => {
  const cal = DEFAULT_CALIBRATION;
  assert.equal(sampling({ positions: 8, mismatches: [] }, cal).pass, true);
  assert.equal(sampling({ positions: 8, mismatches: [0, 1, 2, 3] }, cal).pass, true, "4 of 8 = 0.5 is the edge");
  const over = sampling({ positions: 8, mismatches: [0, 1, 2, 3, 4] }, cal);
  assert.deepEqual([over.pass, over.severity, over.measured], [false, 5 / 8, 5 / 8]);
  assert.deepEqual([sampling(null, cal).pass, sampling(null, cal).severity], [false, 1]);
});

test("pre-generated output scored by the approved model passes the logprob fingerprint but fails the sampling replay", async () => {
  const { service, model, deps } = await setup;
  for (const temperature of [0, 0.8]) {
    const request: Request = { model: TINY, prompt: "Sampled requests are validated by", max_tokens: 12, temperature, top_logprobs: 3, seed: 11 };
    const out = await service.run(request);
    const { sample } = honestPair(request, out, service.account);
    // The canned answer is scored with the real weights, so its logprobs are the model's own.
    const outputTokenIds = model.tokenizer.encode(" a canned answer written before the request came");
    const scored = await deps.recomputer.recompute(sample.promptTokenIds, outputTokenIds, 3);
    const canned = { ...sample, responseText: model.tokenizer.decode(outputTokenIds), outputTokenIds, logprobs: { chosen: scored.chosen, top: scored.top.map((t) => t.slice(0, 3)) } };
    const forged = await dishonestPair(canned, { model: TINY, ...out.result.timings }, service.account);
    const verdict = await validateSample(forged.sample, forged.receipt, deps);
    assert.deepEqual(verdictOf(verdict.results), { ...ALL_PASS, sampling: false }, `temperature ${temperature}: ${JSON.stringify(verdict.results, null, 1)}`);
  }
});

test("honest sampling with top_k and top_p replays exactly (no position missed)", async () => {
  const { service, deps } = await setup;
  const requests: Request[] = [0.3, 0.9, 1.5].map((temperature, i) => ({ model: TINY, prompt: `Replay ${i}`, max_tokens: 10, temperature, top_k: 50 * (i + 1), top_p: 0.8, seed: 100 + i }));
  const outs = await Promise.all(requests.map((r) => service.run(r)));
  for (const [i, out] of outs.entries()) {
    const { sample, receipt } = honestPair(requests[i]!, out, service.account);
    const verdict = await validateSample(sample, receipt, deps);
    const result = verdict.results.find((r) => r.check === "sampling")!;
    assert.deepEqual([result.pass, result.measured], [true, 0], result.detail);
  }
});

test("prompt ids that are not the request's prompt tokenized (padding, another tokenizer) fail tokenization and usage", async () => {
  const { service, deps } = await setup;
  const { request, out } = await honest;
  const { sample } = honestPair(request, out, service.account);
  const padded = await deps.recomputer.recompute([...sample.promptTokenIds, ...sample.promptTokenIds], sample.outputTokenIds, 3);
  const inflated = { ...sample, promptTokenIds: [...sample.promptTokenIds, ...sample.promptTokenIds], logprobs: { chosen: padded.chosen, top: padded.top.map((t) => t.slice(0, 3)) } };
  const forged = await dishonestPair(inflated, { model: TINY, ...out.result.timings }, service.account);
  const verdict = await validateSample(forged.sample, forged.receipt, deps);
  const byCheck = verdictOf(verdict.results);
  assert.deepEqual([byCheck.tokenization, byCheck.usage, byCheck.logprobs], [false, false, true], JSON.stringify(verdict.results, null, 1));
});

test("a receipt signed for another chain gives no verdict", async () => {
  const { service, deps } = await setup;
  const { request, out } = await honest;
  const { sample, receipt } = honestPair(request, out, service.account);
  await assert.rejects(validateSample(sample, receipt, { ...deps, chainId: CHAIN_ID + 1 }), (e: unknown) => e instanceof SampleMismatchError && /chain/.test(e.message));
  assert.equal((await validateSample(sample, receipt, { ...deps, chainId: CHAIN_ID })).pass, true);
});
