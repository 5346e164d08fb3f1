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

type Entry = { requestId: string; at: number; pair: () => ValidatorSample };

export class RecentResponses {
  readonly maxEntries: number;
  readonly maxAgeMs: number;
  readonly #now: () => number;
  readonly #byId = new Map<string, Entry>();
  /**
   * The same entries oldest first, as a ring of maxEntries slots: eviction reads the head and
   * deletes by key. (Iterating a Map from its start after many deletions walks over the holes
   * they leave, which made eviction cost microseconds per response.)
   */
  readonly #ring: (Entry | undefined)[];
  #head = 0;
  #count = 0;

  constructor(options: RecentResponsesOptions, now: () => number = Date.now) {
    if (!Number.isSafeInteger(options.maxEntries) || options.maxEntries < 0) throw new RangeError(`maxEntries must be a non-negative integer, got ${options.maxEntries}`);
    if (!Number.isSafeInteger(options.maxAgeMs) || options.maxAgeMs < 0) throw new RangeError(`maxAgeMs must be a non-negative integer, got ${options.maxAgeMs}`);
    this.maxEntries = options.maxEntries;
    this.maxAgeMs = options.maxAgeMs;
    this.#now = now;
    this.#ring = new Array<Entry | undefined>(options.maxEntries).fill(undefined);
  }

  /** Responses whose pair is kept. */
  get size(): number {
    return this.#byId.size;
  }

  /** Keeps the pair of a finished response, evicting the oldest past either bound. */
  add(requestId: string, pair: () => ValidatorSample): void {
    if (this.maxEntries === 0) return;
    const at = this.#now();
    this.#evictOlderThan(at - this.maxAgeMs);
    if (this.#count === this.maxEntries) this.#dropOldest();
    const entry: Entry = { requestId, at, pair };
    this.#ring[(this.#head + this.#count) % this.maxEntries] = entry;
    this.#count++;
    this.#byId.set(requestId, entry);
  }

  /** The pair of a response still kept (built now), or undefined once it was evicted. */
  pairOf(requestId: string): ValidatorSample | undefined {
    this.#evictOlderThan(this.#now() - this.maxAgeMs);
    return this.#byId.get(requestId)?.pair();
  }

  /** Forgets a response (its pair was stored durably); its ring slot ages out as usual. */
  delete(requestId: string): void {
    this.#byId.delete(requestId);
  }

  #evictOlderThan(oldestKept: number): void {
    while (this.#count > 0 && (this.#ring[this.#head] as Entry).at < oldestKept) this.#dropOldest();
  }

  #dropOldest(): void {
    const entry = this.#ring[this.#head] as Entry;
    this.#ring[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.maxEntries;
    this.#count--;
    // Only if it is still this entry (a request id added again owns a newer one).
    if (this.#byId.get(entry.requestId) === entry) this.#byId.delete(entry.requestId);
  }
}
