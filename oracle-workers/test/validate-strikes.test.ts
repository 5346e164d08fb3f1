import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { getAddress, type Address } from "viem";
import { DEFAULT_DECIDE_PARAMS, decide, formatLog10, honestConvictionRisk, logBinomialTail, logChoose, type DecideParams } from "../src/validate/decide.ts";
import { buildEvidence, canonicalJson, EvidenceError, evidenceHashOf, parseEvidence, readEvidence, serializeEvidence, writeEvidence } from "../src/validate/evidence.ts";
import { emptyRecord, failingEpochs, prioritise, recordAll, recordSample, StrikeError, strikeWeight, totalStrikes, type NodeRecord } from "../src/validate/strikes.ts";
import type { CheckName, CheckResult, SampleVerdict } from "../src/validate/types.ts";
import { serveOracle } from "../src/cosign/server.ts";
import { fetchInvalidations, readInvalidations } from "../src/sources/invalidations.ts";
import { invalidationsFor, invalidationsRoutes, storeInvalidations } from "../src/validate/invalidations.ts";
import { nodeStatus, ValidatorMetrics } from "../src/validate/status.ts";
import { mulberry32 as prng } from "../../test/helpers/random.ts";

const NODE: Address = getAddress("0x00000000000000000000000000000000000000a1");
const ACCOUNT: Address = getAddress("0x00000000000000000000000000000000000000b2");
const VALIDATOR: Address = getAddress("0x00000000000000000000000000000000000000c3");
const CHECKS: CheckName[] = ["logprobs", "tokenization", "speed", "usage"];

/** A verdict of sample `i`: every check passes except those in `fail` (check → severity). */
function verdict(i: number, fail: Partial<Record<CheckName, number>> = {}, extra: Partial<SampleVerdict> = {}): SampleVerdict {
  const results: CheckResult[] = CHECKS.map((check) => {
    const severity = fail[check];
    return { check, pass: severity === undefined, severity: severity ?? 0, measured: severity === undefined ? 0.01 : 1, threshold: 0.5, detail: "" };
  });
  return { requestId: `req-${i}`, epoch: Math.floor(i / 100), node: NODE, account: ACCOUNT, model: "tiny", flagged: false, results, pass: Object.keys(fail).length === 0, recomputation: null, ...extra };
}

/** ln of a positive bigint to double precision (for values far beyond a double's range). */
function bigLog(x: bigint): number {
  const s = x.toString();
  const head = s.slice(0, 17);
  return Math.log(Number(head)) + (s.length - head.length) * Math.LN10;
}

/** P(X >= k), X ~ Binomial(n, num/den), as an exact fraction: (sum, den^n). */
function exactTail(n: number, k: number, num: bigint, den: bigint): { sum: bigint; total: bigint } {
  let sum = 0n;
  let choose = 1n;
  for (let i = 0; i <= n; i++) {
    if (i > 0) choose = (choose * BigInt(n - i + 1)) / BigInt(i);
    if (i >= k) sum += choose * num ** BigInt(i) * (den - num) ** BigInt(n - i);
  }
  return { sum, total: den ** BigInt(n) };
}

/** Samples `i` of a node failing `check` on every sample at `severity`, until `decide` convicts. */
function samplesToConvict(check: CheckName, severity: number, params: DecideParams = DEFAULT_DECIDE_PARAMS): number {
  let record = emptyRecord(NODE, ACCOUNT);
  for (let i = 1; i <= 100; i++) {
    record = recordSample(record, verdict(i, { [check]: severity }));
    if (decide(record, params).convict) return i;
  }
  return Infinity;
}

describe("validate: binomial tail", () => {
  it("matches the exact fraction (bigint brute force) for every k of small n", () => {
    for (const [n, num, den] of [
      [1, 1n, 1000n],
      [7, 1n, 1000n],
      [20, 1n, 1000n],
      [40, 3n, 10n],
      [60, 1n, 2n],
    ] as const) {
      for (let k = 0; k <= n; k++) {
        const { sum, total } = exactTail(n, k, num, den);
        const exact = bigLog(sum) - bigLog(total);
        const got = logBinomialTail(n, k, Number(num) / Number(den));
        assert.ok(Math.abs(got - exact) <= 1e-9 * Math.max(1, Math.abs(exact)), `n=${n} k=${k}: ${got} vs ${exact}`);
      }
    }
  });

  it("keeps tiny probabilities instead of underflowing to 0", () => {
    // 400 failures in 400 samples at 1e-3: exactly 1e-1200, far below a double's 5e-324.
    assert.ok(Math.abs(logBinomialTail(400, 400, 1e-3) / Math.LN10 + 1200) < 1e-9);
    // Against the exact fraction: 150 of 300 at 1e-3.
    const { sum, total } = exactTail(300, 150, 1n, 1000n);
    const exact = bigLog(sum) - bigLog(total);
    assert.ok(exact / Math.LN10 < -300);
    assert.ok(Math.abs(logBinomialTail(300, 150, 1e-3) - exact) < 1e-9 * Math.abs(exact));
    assert.equal(formatLog10(-1200), "1.00e-1200");
  });

  it("edges: k <= 0 is certain, k > n impossible, logChoose symmetric", () => {
    assert.equal(logBinomialTail(10, 0, 1e-3), 0);
    assert.equal(logBinomialTail(10, 11, 0.5), -Infinity);
    assert.equal(logBinomialTail(0, 0, 0.5), 0);
    assert.ok(Math.abs(logChoose(50, 3) - Math.log(19600)) < 1e-12);
    assert.equal(logChoose(50, 47), logChoose(50, 3));
    assert.throws(() => logBinomialTail(10, 1, 1.5), RangeError);
  });
});

describe("validate: strikes", () => {
  it("weighs failures by severity: 1 + floor(severity * (maxWeight - 1))", () => {
    assert.deepEqual([0, 0.2, 0.49, 0.5, 0.99, 1].map((s) => strikeWeight(s)), [1, 1, 1, 2, 2, 3]);
    assert.deepEqual([0, 0.5, 1].map((s) => strikeWeight(s, { maxWeight: 5 })), [1, 3, 5]);
    assert.throws(() => strikeWeight(1.1), StrikeError);
    assert.throws(() => strikeWeight(0.5, { maxWeight: 0 }), StrikeError);
  });

  it("counts samples, passes, failures and strikes exactly; a request id counts once", () => {
    const verdicts = [
      verdict(1),
      verdict(2, { logprobs: 0.1 }),
      verdict(3, { logprobs: 1, usage: 0.6 }),
      verdict(4, {}, { flagged: true }),
      verdict(3, { logprobs: 1, usage: 0.6 }), // the same sample again
    ];
    const record = recordAll(verdicts).get(NODE)!;
    assert.equal(record.samples, 4);
    assert.equal(record.passes, 2);
    assert.equal(record.failedSamples, 2);
    assert.equal(record.flagged, 1);
    assert.deepEqual(record.byCheck.logprobs, { checked: 4, failed: 2, strikes: 1 + 3 });
    assert.deepEqual(record.byCheck.usage, { checked: 4, failed: 1, strikes: 2 });
    assert.deepEqual(record.byCheck.speed, { checked: 4, failed: 0, strikes: 0 });
    assert.equal(totalStrikes(record), 6);
    assert.deepEqual(record.failures.map((v) => v.requestId), ["req-2", "req-3"]);
    assert.deepEqual(failingEpochs(record), [0]);
    // Any order of the same samples gives the same figures.
    const reversed = recordAll([...verdicts].reverse()).get(NODE)!;
    assert.deepEqual(reversed.byCheck, record.byCheck);
  });

  it("refuses a verdict whose pass contradicts its results, or of another node", () => {
    const record = emptyRecord(NODE, ACCOUNT);
    assert.throws(() => recordSample(record, { ...verdict(1, { speed: 0.1 }), pass: true }), StrikeError);
    assert.throws(() => recordSample(record, { ...verdict(1), node: ACCOUNT }), StrikeError);
  });

  it("orders the queue flagged first, then oldest, then by request id", () => {
    const queue = [
      { requestId: "d", flagged: false, at: 1 },
      { requestId: "c", flagged: true, at: 9 },
      { requestId: "b", flagged: false, at: 1 },
      { requestId: "a", flagged: true, at: 3 },
      { requestId: "e", flagged: false, at: 0 },
    ];
    assert.deepEqual(prioritise(queue).map((q) => q.requestId), ["a", "c", "e", "b", "d"]);
    assert.equal(queue[0]!.requestId, "d"); // the input is left as it was
  });
});

describe("validate: decision", () => {
  it("never convicts an honest node at its calibrated noise over 1,000 samples (20 seeded nodes, decided after every sample)", () => {
    const rate = DEFAULT_DECIDE_PARAMS.falseFailureRate.logprobs;
    let worst = 0;
    let failures = 0;
    for (let seed = 1; seed <= 20; seed++) {
      const random = prng(seed);
      let record: NodeRecord = emptyRecord(NODE, ACCOUNT);
      for (let i = 0; i < 1000; i++) {
        const fail: Partial<Record<CheckName, number>> = {};
        // Honest noise: a check fails at the calibrated rate, just past its threshold.
        for (const check of CHECKS) if (random() < rate) fail[check] = 0.1 * random();
        record = recordSample(record, verdict(i, fail));
        const decision = decide(record);
        assert.equal(decision.convict, false, `seed ${seed} sample ${i}: ${decision.reason}`);
        worst = Math.min(worst, decision.log10PHonest);
      }
      failures += record.failedSamples;
    }
    assert.ok(failures > 40 && failures < 120, `about 4 failures per node expected, got ${failures} in 20`);
    assert.ok(worst > -6, `closest to conviction: ${worst}`);
  });

  it("the sequential false-conviction risk: exact against every sequence of 12 samples, about 1.5e-6 per check over 1,000", () => {
    const params = { ...DEFAULT_DECIDE_PARAMS, convictBelow: 0.02, falseFailureRate: { ...DEFAULT_DECIDE_PARAMS.falseFailureRate, speed: 0.3 } };
    const n = 12;
    let brute = 0;
    for (let mask = 0; mask < 1 << n; mask++) {
      let record = emptyRecord(NODE, ACCOUNT);
      let failures = 0;
      for (let i = 0; i < n; i++) {
        const fails = (mask >> i) & 1;
        failures += fails;
        record = recordSample(record, verdict(i, fails ? { speed: 0 } : {}));
        if (decide(record, params).convict) break;
      }
      // Each convicting prefix once: the masks whose later bits are all 0 stand for it.
      if (decide(record, params).convict && mask >> record.samples === 0) brute += 0.3 ** failures * 0.7 ** (record.samples - failures);
    }
    assert.ok(brute > 1e-3, String(brute));
    assert.ok(Math.abs(honestConvictionRisk(n, 0.3, 4, params) - brute) < 1e-12, `${honestConvictionRisk(n, 0.3, 4, params)} vs ${brute}`);
    const risk = honestConvictionRisk(1000, 1e-3);
    assert.ok(risk > 1e-6 && risk < 2e-6, String(risk));
  });

  it("an honest node with 4 failures of one check in 1,000 samples (4x its rate) is far from conviction", () => {
    let record = emptyRecord(NODE, ACCOUNT);
    for (let i = 0; i < 1000; i++) record = recordSample(record, verdict(i, i % 250 === 0 ? { speed: 0.2 } : {}));
    const d = decide(record);
    assert.equal(d.convict, false);
    assert.equal(d.check, "speed");
    // P(X >= 4 | 1000, 1e-3) = 0.01893, times 4 checks.
    assert.ok(Math.abs(d.pHonest - 4 * 0.018926) < 1e-4, String(d.pHonest));
  });

  it("the boundary over 1,000 samples: 10 failures of one check convict, 9 do not", () => {
    const at = (failures: number) => {
      let record = emptyRecord(NODE, ACCOUNT);
      for (let i = 0; i < 1000; i++) record = recordSample(record, verdict(i, i < failures ? { logprobs: 0 } : {}));
      return decide(record);
    };
    // 4 * P(X >= k | 1000, 1e-3): 4.37e-6 at k = 9, 4.30e-7 at k = 10.
    assert.equal(at(9).convict, false, at(9).reason);
    assert.equal(at(10).convict, true, at(10).reason);
    assert.ok(Math.abs(at(9).pHonest - 4.3744e-6) < 1e-9 && Math.abs(at(10).pHonest - 4.2971e-7) < 1e-10);
  });

  it("convicts a node failing every sample within 3 samples (2 if severe: one sample alone never convicts)", () => {
    assert.equal(samplesToConvict("logprobs", 0), 3); // 4 * (1e-3)^3 = 4e-9; at 2: 4e-6
    assert.equal(samplesToConvict("usage", 0.5), 2); // 2 strikes each: 4 * (1e-3)^4 at 2
    assert.equal(samplesToConvict("usage", 1), 2); // 3 strikes: 4e-9 at 1, but 2 failing samples needed
    assert.equal(samplesToConvict("usage", 1, { ...DEFAULT_DECIDE_PARAMS, minFailedSamples: 1 }), 1);
    // A worse-calibrated check (honest rate 1%) needs more: 4 * 0.01^k < 1e-6 at k = 4.
    const noisy = { ...DEFAULT_DECIDE_PARAMS, falseFailureRate: { ...DEFAULT_DECIDE_PARAMS.falseFailureRate, speed: 0.01 } };
    assert.equal(samplesToConvict("speed", 0, noisy), 4);
    // Decided among passes: one sample in 10 failing logprobs severely convicts by sample 20.
    let record = emptyRecord(NODE, ACCOUNT);
    let convictedAt = 0;
    for (let i = 1; i <= 100 && convictedAt === 0; i++) {
      record = recordSample(record, verdict(i, i % 10 === 0 ? { logprobs: 1 } : {}));
      if (decide(record).convict) convictedAt = i;
    }
    assert.equal(convictedAt, 20);
  });

  it("edges: no samples, strictly below the threshold, parameters checked", () => {
    const none = decide(emptyRecord(NODE, ACCOUNT));
    assert.deepEqual([none.convict, none.pHonest, none.check], [false, 1, null]);
    // One check ran once at rate 0.5 and failed: pHonest = 0.5 exactly; 0.5 is not below 0.5.
    const one: SampleVerdict = { ...verdict(1), results: [{ check: "speed", pass: false, severity: 0, measured: 2, threshold: 1, detail: "" }], pass: false };
    const record = recordSample(emptyRecord(NODE, ACCOUNT), one);
    const half = { ...DEFAULT_DECIDE_PARAMS, falseFailureRate: { ...DEFAULT_DECIDE_PARAMS.falseFailureRate, speed: 0.5 }, minFailedSamples: 1 };
    assert.equal(decide(record, { ...half, convictBelow: 0.5 }).convict, false);
    assert.equal(decide(record, { ...half, convictBelow: 0.5000001 }).convict, true);
    assert.throws(() => decide(record, { ...half, convictBelow: 0 }), /convictBelow/);
    assert.throws(() => decide(record, { ...half, falseFailureRate: { ...half.falseFailureRate, usage: 0 } }), /usage/);
  });

  it("reports magnitudes below a double's range exactly", () => {
    let record = emptyRecord(NODE, ACCOUNT);
    for (let i = 0; i < 150; i++) record = recordSample(record, verdict(i, { logprobs: 1 }));
    const d = decide(record);
    assert.equal(d.convict, true);
    assert.equal(d.pHonest, 0);
    // 450 strikes in 450 trials at 1e-3, times 4 checks.
    assert.ok(Math.abs(d.log10PHonest - (-1350 + Math.log10(4))) < 1e-9, String(d.log10PHonest));
    assert.match(d.reason, /P\(honest\) = 4\.00e-1350/);
  });
});

describe("validate: evidence", () => {
  const failing = [verdict(5, { logprobs: 1 }), verdict(130, { logprobs: 0.7 })].map((v) => ({
    ...v,
    recomputation: { logprobs: [-0.5, -Infinity, 1e-7], tokens: 12n },
  }));
  const pairs = failing.map((v) => ({ requestId: v.requestId, model: "tiny", promptTokenIds: [1, 2, 3], outputTokenIds: [4, 5], responseText: "hi" }));
  const record = recordAll(failing).get(NODE)!;
  const bundle = buildEvidence({ node: NODE, account: ACCOUNT, validator: VALIDATOR, failures: record.failures, pairs, decision: decide(record), params: DEFAULT_DECIDE_PARAMS, maxWeight: 3, currentEpoch: 3 });

  it("serializes canonically: sorted keys, bigints and non-finite numbers as strings, independent of key order", () => {
    assert.equal(canonicalJson({ b: 1n, a: [-Infinity, NaN, -0, { d: undefined, c: "x" }] }), '{"a":["-Infinity","NaN",0,{"c":"x"}],"b":"1"}');
    const shuffled = JSON.parse(JSON.stringify({ ...bundle, samples: undefined })) as Record<string, unknown>;
    const reordered = Object.fromEntries(Object.entries({ ...shuffled, samples: bundle.samples }).reverse());
    assert.equal(canonicalJson(reordered), serializeEvidence(bundle).json);
    assert.deepEqual(bundle.epochs, [0, 1, 3]);
  });

  it("round-trips through <dir>/evidence/<hash>.json and detects tampering", async () => {
    const dir = await mkdtemp(join(tmpdir(), "pod-evidence-"));
    try {
      const { hash, path } = await writeEvidence(dir, bundle);
      assert.equal(path, join(dir, "evidence", `${hash}.json`));
      assert.equal(hash, serializeEvidence(bundle).hash);
      const back = await readEvidence(path);
      assert.equal(serializeEvidence(back).hash, hash);
      assert.deepEqual(back.samples[0]!.pair.outputTokenIds, [4, 5]);
      assert.equal(back.samples[0]!.verdict.requestId, "req-5");
      // Writing the same evidence again is the same file.
      assert.equal((await writeEvidence(dir, bundle)).hash, hash);

      const text = await readFile(path, "utf8");
      const tampered = text.replace('"outputTokenIds":[4,5]', '"outputTokenIds":[4,6]');
      assert.notEqual(tampered, text);
      assert.throws(() => parseEvidence(tampered, hash), EvidenceError);
      await writeFile(path, tampered);
      await assert.rejects(readEvidence(path), /hashes to/);
      // Same content, not canonical (pretty-printed): refused even under its own hash.
      const pretty = JSON.stringify(JSON.parse(text), null, 1);
      assert.throws(() => parseEvidence(pretty, serializeEvidence(bundle).hash), /hashes to/);
      assert.throws(() => parseEvidence(pretty, evidenceHashOf(pretty)), /canonical/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("refuses evidence for a failure without its sampled pair", () => {
    assert.throws(
      () => buildEvidence({ node: NODE, account: ACCOUNT, validator: VALIDATOR, failures: record.failures, pairs: pairs.slice(1), decision: decide(record), params: DEFAULT_DECIDE_PARAMS, maxWeight: 3, currentEpoch: 3 }),
      /no sampled pair for failing request req-5/,
    );
  });
});

describe("validate: invalidations and status", () => {
  const HASH_A = `0x${"aa".repeat(32)}` as const;
  const HASH_B = `0x${"BB".repeat(32)}` as const;

  it("stores one file per node and epoch, merges later convictions, and serves what the oracle's parser reads", async () => {
    const dir = await mkdtemp(join(tmpdir(), "pod-invalidations-"));
    const served = await serveOracle(invalidationsRoutes(dir), { host: "127.0.0.1", port: 0 });
    try {
      assert.deepEqual(await fetchInvalidations(served.url, 4, { retries: 0 }), []); // nothing stored yet
      const first = invalidationsFor(NODE.toLowerCase() as Address, [4, 3, 4], HASH_A, "logprobs failed 3 of 3 samples");
      assert.deepEqual(first.map((i) => [i.node, i.epoch, i.evidenceHash]), [
        [NODE, 3, HASH_A],
        [NODE, 4, HASH_A],
      ]);
      const paths = await storeInvalidations(dir, first);
      assert.deepEqual(paths.sort(), [join(dir, "invalidations", `${NODE}-3.json`), join(dir, "invalidations", `${NODE}-4.json`)]);
      // A second conviction of the same node and epoch joins the file; storing it twice changes nothing.
      const second = invalidationsFor(NODE, [4], HASH_B, "x".repeat(2_000));
      await storeInvalidations(dir, second);
      await storeInvalidations(dir, second);
      const served4 = await fetchInvalidations(served.url, 4, { retries: 0 });
      assert.deepEqual(served4, [
        { node: NODE, epoch: 4, evidenceHash: HASH_A, reason: "logprobs failed 3 of 3 samples" },
        { node: NODE, epoch: 4, evidenceHash: HASH_B.toLowerCase(), reason: "x".repeat(1_000) },
      ]);
      // The folder and the endpoint say the same, read the oracle's way.
      assert.deepEqual(await readInvalidations(4, { dir: join(dir, "invalidations") }), served4);
      assert.deepEqual(await readInvalidations(3, { urls: [served.url], retries: 0 }), [first[0]]);
      assert.deepEqual(await fetchInvalidations(served.url, 5, { retries: 0 }), []);
      for (const bad of ["", "-1", "abc", "1.5", "01"]) {
        const res = await fetch(`${served.url}/invalidations?epoch=${bad}`);
        assert.equal(res.status, 400, bad);
      }
    } finally {
      await served.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("shows per-node status and counts samples by result and check", async () => {
    let record = emptyRecord(NODE, ACCOUNT);
    const metrics = new ValidatorMetrics();
    for (const v of [verdict(1), verdict(2, { usage: 1 }), verdict(3, { usage: 1, speed: 0 })]) {
      record = recordSample(record, v);
      metrics.sample(v);
    }
    const decision = decide(record);
    assert.equal(decision.convict, true);
    metrics.conviction();
    const status = nodeStatus(record, decision);
    assert.deepEqual(
      { ...status, pHonest: undefined, log10PHonest: undefined, reason: undefined },
      {
        node: NODE,
        account: ACCOUNT,
        samples: 3,
        passes: 1,
        failedSamples: 2,
        flagged: record.flagged,
        strikes: 7,
        failuresByCheck: { logprobs: 0, sampling: 0, tokenization: 0, speed: 1, usage: 2 },
        pHonest: undefined,
        log10PHonest: undefined,
        convicted: true,
        reason: undefined,
        reportId: null,
        evidenceHash: null,
      },
    );
    // 6 usage strikes in 7 trials at 1e-3, times 4 checks.
    assert.ok(Math.abs(status.log10PHonest - Math.log10(4 * (7 * 1e-18 * 0.999 + 1e-21))) < 1e-9);
    const text = await metrics.text();
    assert.match(text, /validator_samples_total\{result="pass"\} 1/);
    assert.match(text, /validator_samples_total\{result="fail"\} 2/);
    assert.match(text, /validator_checks_total\{check="usage",result="fail"\} 2/);
    assert.match(text, /validator_checks_total\{check="logprobs",result="pass"\} 3/);
    assert.match(text, /validator_convictions_total 1/);
  });
});
