/**
 * The evidence behind a report: the node, its account, the epochs affected, the failing sampled
 * requests (token ids as served), the verdicts with the validator's recomputation, the decision
 * and its parameters. Serialized canonically (object keys sorted at every depth, bigints as
 * decimal strings, non-finite numbers as "Infinity" / "-Infinity" / "NaN", no whitespace), so
 * the same evidence gives the same bytes on every validator; keccak256 of those UTF-8 bytes is
 * the evidenceHash reported on-chain and the file name under `<dir>/evidence/`.
 */
import { randomBytes } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { getAddress, isAddress, isHex, keccak256, stringToBytes, type Address, type Hex } from "viem";
import type { Decision, DecideParams } from "./decide.ts";
import type { SampleVerdict } from "./types.ts";

export const EVIDENCE_VERSION = 1;

/** A sampled request and response as the gateway kept it (a subset of ValidatorSample). */
export type SampledPair = {
  requestId: string;
  model: string;
  promptTokenIds: readonly number[];
  outputTokenIds: readonly number[];
  responseText: string;
};

export type EvidenceSample = { pair: SampledPair; verdict: SampleVerdict };

export type EvidenceBundle = {
  version: number;
  node: Address;
  account: Address;
  /** Epochs whose receipts the conviction invalidates, ascending. */
  epochs: number[];
  samples: EvidenceSample[];
  decision: Pick<Decision, "check" | "log10PHonest" | "reason">;
  params: DecideParams & { maxWeight: number };
  /** The validator that gathered it. */
  validator: Address;
};

export class EvidenceError extends Error {
  override name = "EvidenceError";
}

/** Canonical JSON of any plain value (see the module comment); throws on functions, symbols, cycles. */
export function canonicalJson(value: unknown): string {
  const stack = new Set<object>();
  const encode = (v: unknown, path: string): string => {
    if (v === null) return "null";
    switch (typeof v) {
      case "string":
        return JSON.stringify(v);
      case "boolean":
        return v ? "true" : "false";
      case "bigint":
        return JSON.stringify(v.toString());
      case "number":
        // -0 is 0 in JSON; logprobs may be -Infinity, which JSON cannot carry as a number.
        return Number.isFinite(v) ? JSON.stringify(v) : JSON.stringify(String(v));
      case "object": {
        if (stack.has(v)) throw new EvidenceError(`${path}: cycle`);
        stack.add(v);
        let out: string;
        if (Array.isArray(v)) out = `[${v.map((item, i) => encode(item === undefined ? null : item, `${path}[${i}]`)).join(",")}]`;
        else if (v instanceof Set) out = encode([...v], path);
        else if (v instanceof Map) out = encode(Object.fromEntries(v), path);
        else {
          const entries = Object.entries(v as Record<string, unknown>)
            .filter(([, item]) => item !== undefined)
            .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
          out = `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${encode(item, `${path}.${key}`)}`).join(",")}}`;
        }
        stack.delete(v);
        return out;
      }
      default:
        throw new EvidenceError(`${path}: cannot serialize a ${typeof v}`);
    }
  };
  return encode(value, "$");
}

export function evidenceHashOf(json: string): Hex {
  return keccak256(stringToBytes(json));
}

/** The bundle's canonical JSON and its hash. */
export function serializeEvidence(bundle: EvidenceBundle): { json: string; hash: Hex } {
  const json = canonicalJson(bundle);
  return { json, hash: evidenceHashOf(json) };
}

/**
 * The bundle for `node` from its failing verdicts and the pairs they sampled (matched by request
 * id; a verdict without its pair is an error: the evidence must show what the node served).
 * `currentEpoch` joins the failing samples' epochs: the node is not paid for it either.
 */
export function buildEvidence(input: {
  node: Address;
  account: Address;
  validator: Address;
  failures: readonly SampleVerdict[];
  pairs: readonly SampledPair[];
  decision: Decision;
  params: DecideParams;
  maxWeight: number;
  currentEpoch: number;
}): EvidenceBundle {
  const pairs = new Map(input.pairs.map((p) => [p.requestId, p]));
  const samples = input.failures.map((verdict) => {
    const pair = pairs.get(verdict.requestId);
    if (pair === undefined) throw new EvidenceError(`no sampled pair for failing request ${verdict.requestId}`);
    return { pair: { ...pair, promptTokenIds: [...pair.promptTokenIds], outputTokenIds: [...pair.outputTokenIds] }, verdict };
  });
  const epochs = [...new Set([...input.failures.map((v) => v.epoch), input.currentEpoch])].sort((a, b) => a - b);
  return {
    version: EVIDENCE_VERSION,
    node: getAddress(input.node),
    account: getAddress(input.account),
    epochs,
    samples,
    decision: { check: input.decision.check, log10PHonest: input.decision.log10PHonest, reason: input.decision.reason },
    params: { ...input.params, maxWeight: input.maxWeight },
    validator: getAddress(input.validator),
  };
}

/** Writes `<dir>/evidence/<hash>.json` (temporary file, then rename); returns the hash and path. */
export async function writeEvidence(dir: string, bundle: EvidenceBundle): Promise<{ hash: Hex; path: string }> {
  const { json, hash } = serializeEvidence(bundle);
  const folder = join(dir, "evidence");
  await mkdir(folder, { recursive: true });
  const path = join(folder, `${hash}.json`);
  const tmp = join(folder, `.${hash}.${randomBytes(6).toString("hex")}.tmp`);
  await writeFile(tmp, json, "utf8");
  await rename(tmp, path);
  return { hash, path };
}

/**
 * Reads an evidence file back and checks it: its bytes hash to `expected` (the file name's hash
 * when not given), they are the canonical form of what they parse to, and the fields hold.
 */
export async function readEvidence(path: string, expected?: Hex): Promise<EvidenceBundle> {
  const fromName = /(0x[0-9a-f]{64})\.json$/.exec(path)?.[1] as Hex | undefined;
  const want = expected ?? fromName;
  if (want === undefined) throw new EvidenceError(`${path}: no expected hash (name is not <hash>.json)`);
  return parseEvidence(await readFile(path, "utf8"), want);
}

/** Parses evidence JSON and checks its hash and canonical form; throws EvidenceError when tampered. */
export function parseEvidence(json: string, expected: Hex): EvidenceBundle {
  const hash = evidenceHashOf(json);
  if (hash !== expected.toLowerCase()) throw new EvidenceError(`evidence hashes to ${hash}, not ${expected}`);
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new EvidenceError("evidence is not JSON");
  }
  if (canonicalJson(raw) !== json) throw new EvidenceError("evidence is not in canonical form");
  return validateBundle(raw);
}

function validateBundle(raw: unknown): EvidenceBundle {
  const fail = (field: string, message: string) => new EvidenceError(`evidence.${field}: ${message}`);
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw fail("body", "must be an object");
  const o = raw as Record<string, unknown>;
  if (o.version !== EVIDENCE_VERSION) throw fail("version", `must be ${EVIDENCE_VERSION}`);
  for (const key of ["node", "account", "validator"] as const) {
    const v = o[key];
    if (typeof v !== "string" || !isAddress(v, { strict: true })) throw fail(key, "must be a checksummed address");
  }
  if (!Array.isArray(o.epochs) || !o.epochs.every((e) => Number.isSafeInteger(e) && (e as number) >= 0)) throw fail("epochs", "must be non-negative integers");
  if (!Array.isArray(o.samples) || o.samples.length === 0) throw fail("samples", "must be a non-empty array");
  o.samples.forEach((s: unknown, i) => {
    const sample = s as { pair?: { requestId?: unknown; promptTokenIds?: unknown; outputTokenIds?: unknown }; verdict?: { requestId?: unknown; results?: unknown } } | null;
    const pair = sample?.pair;
    if (typeof pair?.requestId !== "string" || !Array.isArray(pair.promptTokenIds) || !Array.isArray(pair.outputTokenIds)) throw fail(`samples[${i}].pair`, "must carry requestId and token ids");
    if (sample?.verdict?.requestId !== pair.requestId || !Array.isArray(sample.verdict.results)) throw fail(`samples[${i}].verdict`, "must be the verdict of its pair");
  });
  if (typeof o.decision !== "object" || o.decision === null || typeof o.params !== "object" || o.params === null) throw fail("decision", "decision and params must be objects");
  return raw as EvidenceBundle;
}

/** True when `hash` is 32 bytes of lower-case hex (an evidence file name's hash). */
export function isEvidenceHash(hash: string): hash is Hex {
  return isHex(hash, { strict: true }) && hash.length === 66 && hash === hash.toLowerCase();
}
