/**
 * Routing decisions, pure: which node takes a job, and the two running figures they rest on
 * (measured speed, decaying failures). The pool feeds these from its sessions; nothing here
 * touches a socket or a clock.
 */
import type { Address } from "viem";

/** What the router knows of one node serving the requested model, at the moment of choice. */
export type NodeCandidate = {
  node: Address;
  /** Whether the node's account has an active bond. */
  bonded: boolean;
  /** Leaving or told to drain: takes no new job. */
  draining: boolean;
  /** Slots left: capacity minus jobs in flight (negative when the node is queueing). */
  free: number;
  /** Measured decode speed of one stream (EWMA), or the node's own figure until measured. */
  tokensPerSecond: number;
  /** Recent failures, decayed (see decayFailures). */
  failureScore: number;
};

export type ChooseOptions = { bondedOnly?: boolean; exclude?: ReadonlySet<Address> | readonly Address[] };

/** A node whose decayed failure score reaches this ranks after every node below it. */
export const FAILURE_DEMOTION_SCORE = 0.5;

/** Whether `c` may take this job at all. */
export function isEligible(c: NodeCandidate, options: ChooseOptions = {}): boolean {
  if (c.draining) return false;
  if (options.bondedOnly === true && !c.bonded) return false;
  const exclude = options.exclude;
  if (exclude === undefined) return true;
  const key = c.node.toLowerCase();
  for (const e of exclude) if (e.toLowerCase() === key) return false;
  return true;
}

/**
 * The routing order, lexicographic:
 * 1. nodes with a free slot before full ones (a full node only queues when every node is full);
 * 2. among nodes with a free slot, those without recent failures (score < FAILURE_DEMOTION_SCORE)
 *    first; among full ones, no demotion: piling every queued job on the healthy nodes would cost
 *    more latency than the risk of a retry;
 * 3. more free slots first (least loaded: spreads the load);
 * 4. faster first (measured speed);
 * 5. fewer recent failures first;
 * 6. lower address first, so equal nodes are always chosen the same way.
 */
export function compareCandidates(a: NodeCandidate, b: NodeCandidate): number {
  const tier = (c: NodeCandidate) => (c.free <= 0 ? 2 : c.failureScore >= FAILURE_DEMOTION_SCORE ? 1 : 0);
  return (
    tier(a) - tier(b) ||
    b.free - a.free ||
    b.tokensPerSecond - a.tokensPerSecond ||
    a.failureScore - b.failureScore ||
    (a.node.toLowerCase() < b.node.toLowerCase() ? -1 : a.node.toLowerCase() > b.node.toLowerCase() ? 1 : 0)
  );
}

/** Eligible candidates in routing order (best first). */
export function rankNodes<C extends NodeCandidate>(candidates: readonly C[], options: ChooseOptions = {}): C[] {
  return candidates.filter((c) => isEligible(c, options)).sort(compareCandidates);
}

/** The node to send the job to, or undefined when none is eligible. */
export function chooseNode<C extends NodeCandidate>(candidates: readonly C[], options: ChooseOptions = {}): C | undefined {
  let best: C | undefined;
  for (const c of candidates) {
    if (isEligible(c, options) && (best === undefined || compareCandidates(c, best) < 0)) best = c;
  }
  return best;
}

/** A failure count that halves every `halfLifeMs`: old failures fade, a flapping node stays down. */
export type FailureRecord = { score: number; at: number };

export const NO_FAILURES: FailureRecord = { score: 0, at: 0 };

export function decayFailures(record: FailureRecord, now: number, halfLifeMs: number): number {
  if (record.score === 0) return 0;
  const elapsed = Math.max(0, now - record.at);
  return record.score * 2 ** (-elapsed / halfLifeMs);
}

export function addFailure(record: FailureRecord, now: number, halfLifeMs: number): FailureRecord {
  return { score: decayFailures(record, now, halfLifeMs) + 1, at: now };
}

/**
 * Decode speed of one finished job (tokens per second after the first token), or undefined when
 * the job is too short to say (fewer than two tokens, or no measurable time).
 */
export function decodeSpeed(outputTokens: number, firstTokenMs: number, totalMs: number): number | undefined {
  const decodeMs = totalMs - firstTokenMs;
  if (outputTokens < 2 || decodeMs <= 0) return undefined;
  return ((outputTokens - 1) * 1000) / decodeMs;
}

/** Exponentially weighted moving average; the first sample replaces the node's own claim. */
export function ewma(previous: number | undefined, sample: number, alpha: number): number {
  return previous === undefined ? sample : previous + alpha * (sample - previous);
}
