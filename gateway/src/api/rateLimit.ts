/**
 * Per-key request rate limits: a token bucket per grant, refilled continuously. Pure apart from
 * the injected clock. Buckets that have refilled completely are forgotten when the map grows,
 * so memory stays bounded by the keys active within one refill period.
 */
export type RateLimitConfig = {
  /** Sustained rate per key. */
  requestsPerMinute: number;
  /** Requests a key may make at once after being idle. */
  burst: number;
};

type Bucket = { tokens: number; at: number };

export class RateLimiter {
  readonly #perMs: number;
  readonly #burst: number;
  readonly #maxTracked: number;
  readonly #now: () => number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(config: RateLimitConfig, now: () => number = Date.now, maxTracked = 100_000) {
    if (!(config.requestsPerMinute > 0) || !Number.isInteger(config.burst) || config.burst < 1) throw new RangeError("rate limit: requestsPerMinute must be positive and burst an integer >= 1");
    this.#perMs = config.requestsPerMinute / 60_000;
    this.#burst = config.burst;
    this.#maxTracked = maxTracked;
    this.#now = now;
  }

  /** Takes one request from `key`'s bucket: 0 when allowed, else the milliseconds until one is. */
  take(key: string): number {
    const now = this.#now();
    const bucket = this.#buckets.get(key) ?? { tokens: this.#burst, at: now };
    bucket.tokens = Math.min(this.#burst, bucket.tokens + (now - bucket.at) * this.#perMs);
    bucket.at = now;
    if (!this.#buckets.has(key)) {
      if (this.#buckets.size >= this.#maxTracked) this.#forgetFull(now);
      this.#buckets.set(key, bucket);
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - bucket.tokens) / this.#perMs);
  }

  get tracked(): number {
    return this.#buckets.size;
  }

  #forgetFull(now: number): void {
    for (const [key, b] of this.#buckets) if (b.tokens + (now - b.at) * this.#perMs >= this.#burst) this.#buckets.delete(key);
  }
}
