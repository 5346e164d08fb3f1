/**
 * What a validator shows about itself: per-node status for `/status` and Prometheus figures
 * (own Registry per instance, so two validators in one process never share counters).
 */
import { Counter, Registry } from "prom-client";
import type { Address } from "viem";
import type { Decision } from "./decide.ts";
import { CHECK_NAMES, totalStrikes, type NodeRecord } from "./strikes.ts";
import type { CheckName, SampleVerdict } from "./types.ts";

export type NodeStatus = {
  node: Address;
  account: Address;
  samples: number;
  passes: number;
  failedSamples: number;
  /** Samples that came flagged by their user. */
  flagged: number;
  strikes: number;
  failuresByCheck: Record<CheckName, number>;
  pHonest: number;
  log10PHonest: number;
  convicted: boolean;
  reason: string;
  /** The on-chain report id as a decimal string; null when not reported (yet). */
  reportId: string | null;
  evidenceHash: string | null;
};

export function nodeStatus(record: NodeRecord, decision: Decision, report: { reportId: bigint; evidenceHash: string } | null = null): NodeStatus {
  const failuresByCheck = Object.fromEntries(CHECK_NAMES.map((c) => [c, record.byCheck[c].failed])) as Record<CheckName, number>;
  return {
    node: record.node,
    account: record.account,
    samples: record.samples,
    passes: record.passes,
    failedSamples: record.failedSamples,
    flagged: record.flagged,
    strikes: totalStrikes(record),
    failuresByCheck,
    pHonest: decision.pHonest,
    // JSON has no -Infinity; a zero honest rate is reported as the smallest double's log.
    log10PHonest: Number.isFinite(decision.log10PHonest) ? decision.log10PHonest : -324,
    convicted: decision.convict,
    reason: decision.reason,
    reportId: report === null ? null : report.reportId.toString(),
    evidenceHash: report === null ? null : report.evidenceHash,
  };
}

export class ValidatorMetrics {
  readonly registry = new Registry();
  readonly #samples: Counter<"result">;
  readonly #checks: Counter<"check" | "result">;
  readonly #convictions: Counter;
  readonly #reports: Counter<"outcome">;

  constructor() {
    const registers = [this.registry];
    this.#samples = new Counter({ name: "validator_samples_total", help: "Sampled requests validated, by result (pass, fail)", labelNames: ["result"], registers });
    this.#checks = new Counter({ name: "validator_checks_total", help: "Checks run on sampled requests, by check and result", labelNames: ["check", "result"], registers });
    this.#convictions = new Counter({ name: "validator_convictions_total", help: "Nodes convicted (honest-failure probability below the threshold)", registers });
    this.#reports = new Counter({ name: "validator_reports_total", help: "On-chain reports, by outcome (sent, already_open, failed)", labelNames: ["outcome"], registers });
  }

  sample(verdict: SampleVerdict): void {
    this.#samples.inc({ result: verdict.pass ? "pass" : "fail" });
    for (const r of verdict.results) this.#checks.inc({ check: r.check, result: r.pass ? "pass" : "fail" });
  }

  conviction(): void {
    this.#convictions.inc();
  }

  report(outcome: "sent" | "already_open" | "failed"): void {
    this.#reports.inc({ outcome });
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
