/**
 * Prometheus figures of one oracle (GET /metrics): epochs closed, receipts accepted and dropped
 * by reason, how long each pipeline step took, and root mismatches with peers. One registry per
 * instance, so two oracles in one process (tests) never share figures.
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { DropReason } from "../epoch/types.ts";

export class OracleMetrics {
  readonly registry = new Registry();
  readonly #epochsClosed: Counter;
  readonly #lastEpoch: Gauge<"stage">;
  readonly #accepted: Counter;
  readonly #dropped: Counter<"reason">;
  readonly #stepSeconds: Histogram<"step">;
  readonly #mismatches: Counter<"field">;
  readonly #peerFailures: Counter<"kind">;

  constructor() {
    const registers = [this.registry];
    this.#epochsClosed = new Counter({ name: "oracle_epochs_closed_total", help: "Epochs computed into a report and a root", registers });
    this.#lastEpoch = new Gauge({ name: "oracle_last_epoch", help: "Last epoch that reached each stage (computed, signed, proposed, settled)", labelNames: ["stage"], registers });
    this.#accepted = new Counter({ name: "oracle_receipts_accepted_total", help: "Receipts counted as work", registers });
    this.#dropped = new Counter({ name: "oracle_receipts_dropped_total", help: "Receipts not paid, by reason", labelNames: ["reason"], registers });
    this.#stepSeconds = new Histogram({
      name: "oracle_step_duration_seconds",
      help: "Duration of each pipeline step (fetch, chain, compute, cosign, propose, settle, buyback)",
      labelNames: ["step"],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers,
    });
    this.#mismatches = new Counter({ name: "oracle_root_mismatches_total", help: "Peer signatures over a different epoch root, by differing field", labelNames: ["field"], registers });
    this.#peerFailures = new Counter({ name: "oracle_peer_failures_total", help: "Peers that gave no usable signature (unreachable, pending, rejected)", labelNames: ["kind"], registers });
  }

  epochClosed(epoch: number, accepted: number, dropped: Readonly<Partial<Record<DropReason, number>>>): void {
    this.#epochsClosed.inc();
    this.#lastEpoch.set({ stage: "computed" }, epoch);
    this.#accepted.inc(accepted);
    for (const [reason, n] of Object.entries(dropped)) if (n !== undefined && n > 0) this.#dropped.inc({ reason }, n);
  }

  stage(stage: "signed" | "proposed" | "settled" | "buyback", epoch: number): void {
    this.#lastEpoch.set({ stage }, epoch);
  }

  step(step: string, seconds: number): void {
    this.#stepSeconds.observe({ step }, seconds);
  }

  /** Times `work` as `step` (failures included: a slow failure is worth seeing). */
  async timed<T>(step: string, work: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await work();
    } finally {
      this.step(step, (performance.now() - started) / 1000);
    }
  }

  mismatch(fields: readonly string[]): void {
    for (const field of fields) this.#mismatches.inc({ field });
  }

  peerFailure(kind: "unreachable" | "pending" | "rejected", n = 1): void {
    if (n > 0) this.#peerFailures.inc({ kind }, n);
  }
}
