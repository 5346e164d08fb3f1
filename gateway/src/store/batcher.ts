/**
 * Natural batching of writes: a write that arrives while none is running goes out at once
 * (no added latency when idle); writes that arrive meanwhile are sent together as the next
 * batch. One multi-row statement and one WAL sync per batch is what lets an embedded,
 * single-threaded PGlite keep up with a busy gateway.
 */
type Pending<T, R> = { item: T; resolve: (value: R) => void; reject: (error: unknown) => void };

export class Batcher<T, R> {
  readonly #write: (items: T[]) => Promise<R[]>;
  readonly #maxBatch: number;
  #queue: Pending<T, R>[] = [];
  /** Set and cleared synchronously with the queue checks, so no submit is ever left waiting. */
  #running = false;
  #draining: Promise<void> = Promise.resolve();

  /** `write` returns one result per item, in order. */
  constructor(write: (items: T[]) => Promise<R[]>, maxBatch: number) {
    this.#write = write;
    this.#maxBatch = maxBatch;
  }

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      if (!this.#running) {
        this.#running = true;
        this.#draining = this.#drain();
      }
    });
  }

  /** Resolves once every write submitted so far has settled. */
  async idle(): Promise<void> {
    while (this.#running) await this.#draining;
  }

  async #drain(): Promise<void> {
    // The flag is cleared in the same synchronous step as the last empty-queue check: a submit
    // queued by a resolved caller's continuation then always starts a new drain.
    try {
      while (this.#queue.length > 0) await this.#writeBatch(this.#queue.splice(0, this.#maxBatch));
    } finally {
      this.#running = false;
    }
  }

  async #writeBatch(batch: Pending<T, R>[]): Promise<void> {
    try {
      const results = await this.#write(batch.map((p) => p.item));
      batch.forEach((p, i) => p.resolve(results[i] as R));
    } catch (error) {
      if (batch.length === 1) {
        batch[0]?.reject(error);
        return;
      }
      // One bad item must not fail the others: retry each on its own.
      for (const p of batch) {
        try {
          const [result] = await this.#write([p.item]);
          p.resolve(result as R);
        } catch (single) {
          p.reject(single);
        }
      }
    }
  }
}
