/**
 * The oracle's loop: epochs in order from 0, each taken through every step (pipeline/epoch.ts).
 * A step that must wait (EpochDelayed, a gateway down, an RPC hiccup) is retried after `pollMs`
 * on the same epoch, so nothing is skipped; a root on-chain that differs from ours
 * (ProposalConflict) stops the loop.
 */
import { readEpochSchedule, type EpochSchedule } from "../chain/schedule.ts";
import { GatewayUnavailable } from "../sources/gateway.ts";
import { InvalidationSourceUnavailable } from "../sources/invalidations.ts";
import type { OracleContext } from "./context.ts";
import { ProposalConflict } from "../chain/propose.ts";
import { buybackStep, computeAndSign, EpochDelayed, proposeStep, settleStep, type PipelineStep } from "./epoch.ts";

export type OracleStatus = {
  oracle: string;
  /** The epoch being worked on. */
  epoch: number;
  /** Why it waits, when it does. */
  waiting: string | null;
  lastDone: Partial<Record<PipelineStep, number>>;
};

export class OracleRunner {
  readonly #ctx: OracleContext;
  #epoch = 0;
  #waiting: string | null = null;
  readonly #lastDone: Partial<Record<PipelineStep, number>> = {};

  constructor(ctx: OracleContext) {
    this.#ctx = ctx;
  }

  status(): OracleStatus {
    return { oracle: this.#ctx.oracle.address, epoch: this.#epoch, waiting: this.#waiting, lastDone: { ...this.#lastDone } };
  }

  /** Whether every step of `epoch` is recorded as done. */
  async isFinished(epoch: number): Promise<boolean> {
    const journal = await this.#ctx.files.readJournal(epoch);
    return journal.proposed !== undefined && (this.#ctx.settler === undefined || journal.settled !== undefined) && journal.boughtBack !== undefined;
  }

  /** Takes one epoch through every step; throws EpochDelayed (or a transient error) when it must wait. */
  async runEpoch(schedule: EpochSchedule, epoch: number): Promise<void> {
    const ctx = this.#ctx;
    const computed = await computeAndSign(ctx, schedule, epoch);
    this.#done(epoch, "signed");
    await proposeStep(ctx, epoch, computed);
    this.#done(epoch, "proposed");
    await settleStep(ctx, epoch);
    this.#done(epoch, "settled");
    await buybackStep(ctx, epoch);
    this.#done(epoch, "boughtBack");
  }

  /** Runs epochs until `signal` aborts, or (when given) until `lastEpoch` is finished. */
  async run(signal: AbortSignal, lastEpoch?: number): Promise<void> {
    const ctx = this.#ctx;
    this.#epoch = 0;
    while (await this.isFinished(this.#epoch)) this.#epoch += 1;
    if (this.#epoch > 0) ctx.log("info", "resuming", { epoch: this.#epoch });
    while (!signal.aborted && (lastEpoch === undefined || this.#epoch <= lastEpoch)) {
      try {
        const schedule = await readEpochSchedule(ctx.client, ctx.contracts.protocolParams);
        await this.runEpoch(schedule, this.#epoch);
        this.#waiting = null;
        this.#epoch += 1;
        continue;
      } catch (error) {
        if (error instanceof ProposalConflict) {
          ctx.log("error", `stopping: ${error.message}; this oracle's report differs from the root on-chain`);
          throw error;
        }
        this.#wait(error);
      }
      await sleep(ctx.timing.pollMs, signal);
    }
  }

  #wait(error: unknown): void {
    const ctx = this.#ctx;
    const message = error instanceof Error ? error.message : String(error);
    const reason =
      error instanceof EpochDelayed ? "delayed" : error instanceof GatewayUnavailable || error instanceof InvalidationSourceUnavailable ? "source_unavailable" : "error";
    // Say it once per distinct reason, not every poll.
    if (message !== this.#waiting) {
      const level = reason === "error" ? "error" : reason === "source_unavailable" ? "warn" : "info";
      ctx.log(level, reason === "error" ? "epoch step failed; retrying" : "epoch waiting", { epoch: this.#epoch, reason: message });
    }
    this.#waiting = message;
  }

  #done(epoch: number, step: PipelineStep): void {
    if (step !== "computed") this.#ctx.metrics.stage(step === "boughtBack" ? "buyback" : step, epoch);
    this.#lastDone[step] = epoch;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
