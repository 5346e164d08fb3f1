/**
 * A validator's running record of one node: how many of its sampled requests were checked, how
 * many passed, and its failures and strikes by check. Pure: `recordSample` returns a new record.
 *
 * Strikes weigh a failure by its severity: a severe failure (fabricated output, inflated usage:
 * severity 1) is far less likely to be honest noise than a borderline one, so it counts as
 * several independent failures (see `strikeWeight`). Strikes are integers, so the arithmetic is
 * exact whatever the order of the samples.
 */
import type { Address } from "viem";
import type { CheckName, SampleVerdict } from "./types.ts";

export const CHECK_NAMES: readonly CheckName[] = ["logprobs", "sampling", "tokenization", "speed", "usage"];

/** How a failure's severity (0..1) turns into strikes. */
export type StrikeWeighting = {
  /** The strikes of a failure of severity 1 (an integer >= 1); severity 0 gives 1 strike. */
  maxWeight: number;
};

export const DEFAULT_WEIGHTING: StrikeWeighting = { maxWeight: 3 };

export type CheckTally = {
  /** Samples in which this check ran. */
  checked: number;
  /** Samples in which it failed. */
  failed: number;
  /** Severity-weighted failures: the sum of strikeWeight over its failures. */
  strikes: number;
};

export type NodeRecord = {
  node: Address;
  account: Address;
  /** Samples recorded (each request id once). */
  samples: number;
  /** Samples whose every check passed. */
  passes: number;
  /** Samples in which at least one check failed. */
  failedSamples: number;
  /** Flagged samples (users' flags or the gateway's suspicion) among `samples`. */
  flagged: number;
  byCheck: Readonly<Record<CheckName, CheckTally>>;
  /** The failing verdicts kept as evidence, oldest first (at most `MAX_KEPT_FAILURES`). */
  failures: readonly SampleVerdict[];
  /** Request ids already recorded, so a sample counted twice is not two samples. */
  seen: SeenIds;
};

/**
 * A persistent set of request ids: full chunks are shared between records, only the newest
 * chunk (at most SEEN_CHUNK ids) is copied, so recording stays cheap after 100,000 samples.
 */
export type SeenIds = { readonly frozen: readonly ReadonlySet<string>[]; readonly recent: ReadonlySet<string> };

const SEEN_CHUNK = 256;

export function hasSeen(seen: SeenIds, requestId: string): boolean {
  return seen.recent.has(requestId) || seen.frozen.some((chunk) => chunk.has(requestId));
}

function withSeen(seen: SeenIds, requestId: string): SeenIds {
  if (seen.recent.size >= SEEN_CHUNK) return { frozen: [...seen.frozen, seen.recent], recent: new Set([requestId]) };
  return { frozen: seen.frozen, recent: new Set(seen.recent).add(requestId) };
}

/** Every id of the set, oldest chunk first (for storage). */
export function seenIds(seen: SeenIds): string[] {
  return [...seen.frozen.flatMap((chunk) => [...chunk]), ...seen.recent];
}

/** The set of `ids` in the chunks recording them one by one would give. */
export function seenFrom(ids: readonly string[]): SeenIds {
  const frozen: ReadonlySet<string>[] = [];
  for (let i = 0; i + SEEN_CHUNK < ids.length; i += SEEN_CHUNK) frozen.push(new Set(ids.slice(i, i + SEEN_CHUNK)));
  return { frozen, recent: new Set(ids.slice(frozen.length * SEEN_CHUNK)) };
}

/** The failing verdicts a record keeps; a node convicted never needs more, an honest one never reaches it. */
export const MAX_KEPT_FAILURES = 64;

export class StrikeError extends Error {
  override name = "StrikeError";
}

/**
 * The strikes of one failure: 1 + floor(severity * (maxWeight - 1)), so with maxWeight 3 a
 * failure of severity < 0.5 is 1 strike, 0.5..<1 is 2 strikes, and severity 1 is 3 strikes.
 * Passing results give 0.
 */
export function strikeWeight(severity: number, weighting: StrikeWeighting = DEFAULT_WEIGHTING): number {
  if (!Number.isInteger(weighting.maxWeight) || weighting.maxWeight < 1) throw new StrikeError(`maxWeight must be an integer >= 1, got ${weighting.maxWeight}`);
  if (!Number.isFinite(severity) || severity < 0 || severity > 1) throw new StrikeError(`severity must be within 0..1, got ${severity}`);
  return 1 + Math.floor(severity * (weighting.maxWeight - 1));
}

export function emptyRecord(node: Address, account: Address): NodeRecord {
  const tally = (): CheckTally => ({ checked: 0, failed: 0, strikes: 0 });
  return {
    node,
    account,
    samples: 0,
    passes: 0,
    failedSamples: 0,
    flagged: 0,
    byCheck: { logprobs: tally(), sampling: tally(), tokenization: tally(), speed: tally(), usage: tally() },
    failures: [],
    seen: { frozen: [], recent: new Set() },
  };
}

/** The record with `verdict` added; the same record when its request id was recorded already. */
export function recordSample(record: NodeRecord, verdict: SampleVerdict, weighting: StrikeWeighting = DEFAULT_WEIGHTING): NodeRecord {
  if (verdict.node.toLowerCase() !== record.node.toLowerCase()) throw new StrikeError(`verdict of node ${verdict.node} recorded for ${record.node}`);
  if (hasSeen(record.seen, verdict.requestId)) return record;
  const byCheck = { ...record.byCheck };
  const ran = new Set<CheckName>();
  let failed = false;
  for (const result of verdict.results) {
    // One check counts once per sample, whatever the number of its results.
    if (ran.has(result.check)) throw new StrikeError(`verdict ${verdict.requestId} has two ${result.check} results`);
    ran.add(result.check);
    const before = byCheck[result.check];
    const strikes = result.pass ? 0 : strikeWeight(result.severity, weighting);
    byCheck[result.check] = { checked: before.checked + 1, failed: before.failed + (result.pass ? 0 : 1), strikes: before.strikes + strikes };
    if (!result.pass) failed = true;
  }
  // The verdict's own pass must agree with its results: a contradiction is a bug upstream.
  if (verdict.pass === failed) throw new StrikeError(`verdict ${verdict.requestId} says pass=${verdict.pass} but its results ${failed ? "fail" : "pass"}`);
  const seen = withSeen(record.seen, verdict.requestId);
  const failures = failed ? [...record.failures, verdict].slice(-MAX_KEPT_FAILURES) : record.failures;
  return {
    ...record,
    samples: record.samples + 1,
    passes: record.passes + (failed ? 0 : 1),
    failedSamples: record.failedSamples + (failed ? 1 : 0),
    flagged: record.flagged + (verdict.flagged ? 1 : 0),
    byCheck,
    failures,
    seen,
  };
}

/** Every verdict recorded in order, per node (checksummed key as given in the verdicts). */
export function recordAll(verdicts: Iterable<SampleVerdict>, weighting: StrikeWeighting = DEFAULT_WEIGHTING): Map<Address, NodeRecord> {
  const records = new Map<Address, NodeRecord>();
  for (const verdict of verdicts) {
    const record = records.get(verdict.node) ?? emptyRecord(verdict.node, verdict.account);
    records.set(verdict.node, recordSample(record, verdict, weighting));
  }
  return records;
}

/** Total strikes over every check. */
export function totalStrikes(record: NodeRecord): number {
  return CHECK_NAMES.reduce((sum, check) => sum + record.byCheck[check].strikes, 0);
}

/** The epochs of the record's kept failures, ascending, each once. */
export function failingEpochs(record: NodeRecord): number[] {
  return [...new Set(record.failures.map((v) => v.epoch))].sort((a, b) => a - b);
}

/** A sample waiting to be validated. */
export type QueuedSample = { requestId: string; flagged: boolean; /** when it was served (any monotonic unit: ms, sequence) */ at: number };

/**
 * The order in which to validate waiting samples: flagged ones first (a user's flag or the
 * gateway's suspicion is the strongest lead), then oldest first (so that evidence lands before
 * its epoch closes), then by request id so that equal entries order the same everywhere.
 */
export function prioritise<T extends QueuedSample>(queue: readonly T[]): T[] {
  return [...queue].sort((a, b) => {
    if (a.flagged !== b.flagged) return a.flagged ? -1 : 1;
    if (a.at !== b.at) return a.at - b.at;
    return a.requestId < b.requestId ? -1 : a.requestId > b.requestId ? 1 : 0;
  });
}
