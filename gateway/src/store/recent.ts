/**
 * The request/response pairs of recent responses, in memory, so that a response the user flags
 * can be checked by validators even when sampling passed it over. Bounded twice: at most
 * `maxEntries` pairs, none older than `maxAgeMs`; the oldest go first.
 *
 * An entry holds a builder, not a built pair: the pieces (the node's result, the parsed request)
 * are already in memory, so keeping a response costs one map entry and the pair is assembled
 * only for the few responses that get flagged.
 */
import type { ValidatorSample } from "./types.ts";

export type RecentResponsesOptions = {
  /** Pairs kept at most (0: none are kept). */
  maxEntries: number;
  /** Milliseconds a pair is kept at most. */
  maxAgeMs: number;
};

type Entry = { at: number; pair: () => ValidatorSample };

export class RecentResponses {
  readonly maxEntries: number;
  readonly maxAgeMs: number;
  readonly #now: () => number;
  /** Insertion order is age order (entries are only ever appended), so the oldest is first. */
  readonly #entries = new Map<string, Entry>();

  constructor(options: RecentResponsesOptions, now: () => number = Date.now) {
    if (!Number.isSafeInteger(options.maxEntries) || options.maxEntries < 0) throw new RangeError(`maxEntries must be a non-negative integer, got ${options.maxEntries}`);
    if (!Number.isSafeInteger(options.maxAgeMs) || options.maxAgeMs < 0) throw new RangeError(`maxAgeMs must be a non-negative integer, got ${options.maxAgeMs}`);
    this.maxEntries = options.maxEntries;
    this.maxAgeMs = options.maxAgeMs;
    this.#now = now;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Keeps the pair of a finished response, evicting the oldest past either bound. */
  add(requestId: string, pair: () => ValidatorSample): void {
    if (this.maxEntries === 0) return;
    const now = this.#now();
    this.#entries.delete(requestId);
    this.#entries.set(requestId, { at: now, pair });
    this.#evict(now);
  }

  /** The pair of a response still kept (built now), or undefined once it was evicted. */
  pairOf(requestId: string): ValidatorSample | undefined {
    this.#evict(this.#now());
    return this.#entries.get(requestId)?.pair();
  }

  /** Forgets a response (its pair was stored durably). */
  delete(requestId: string): void {
    this.#entries.delete(requestId);
  }

  #evict(now: number): void {
    const oldestKept = now - this.maxAgeMs;
    for (const [id, entry] of this.#entries) {
      if (this.#entries.size <= this.maxEntries && entry.at >= oldestKept) break;
      this.#entries.delete(id);
    }
  }
}
