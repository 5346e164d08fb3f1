/**
 * Prometheus figures of the gateway (GET /metrics): HTTP requests by endpoint and status,
 * tokens charged by model, request durations, and the node pool's counters and gauges read
 * from NodePool.metrics() at scrape time. One registry per app, so apps never share figures.
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { PoolMetrics } from "../pool/index.ts";

/** Pool counters exported as Prometheus counters (the rest of PoolMetrics are gauges). */
const POOL_COUNTERS = ["requests", "attempts", "retries", "succeeded", "tokens", "noNode", "allAttemptsFailed", "midStreamFailures", "rejected", "aborted", "nodeFailures", "invalidResults", "nodesAccepted", "nodesDropped"] as const;
const POOL_GAUGES = ["requestsInFlight", "nodesConnected", "nodesBonded", "nodesDraining", "jobsInFlight", "capacity"] as const;

const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

export class ApiMetrics {
  readonly registry = new Registry();
  readonly #requests: Counter<"endpoint" | "status">;
  readonly #tokens: Counter<"model" | "kind">;
  readonly #duration: Histogram<"endpoint">;

  constructor(poolMetrics: () => PoolMetrics) {
    const registers = [this.registry];
    this.#requests = new Counter({ name: "gateway_http_requests_total", help: "HTTP requests answered, by endpoint and status", labelNames: ["endpoint", "status"], registers });
    this.#tokens = new Counter({ name: "gateway_tokens_charged_total", help: "Tokens charged to API keys, by model and kind (prompt, completion)", labelNames: ["model", "kind"], registers });
    this.#duration = new Histogram({
      name: "gateway_http_request_duration_seconds",
      help: "Time until the response started (for streams: until the first event was ready)",
      labelNames: ["endpoint"],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers,
    });
    // The pool's figures are read at scrape time (a walk over the connected sessions: cheap).
    const read = poolMetrics;
    for (const key of POOL_COUNTERS) {
      new Counter({
        name: `gateway_pool_${snake(key)}_total`,
        help: `Node pool counter ${key}`,
        registers,
        collect() {
          this.reset();
          this.inc(read()[key]);
        },
      });
    }
    for (const key of POOL_GAUGES) {
      new Gauge({ name: `gateway_pool_${snake(key)}`, help: `Node pool gauge ${key}`, registers, collect() { this.set(read()[key]); } });
    }
    new Gauge({
      name: "gateway_pool_nodes_by_model",
      help: "Connected, non-draining nodes per model",
      labelNames: ["model"],
      registers,
      collect() {
        this.reset();
        for (const [model, n] of Object.entries(read().nodesByModel)) this.set({ model }, n);
      },
    });
    new Counter({
      name: "gateway_pool_nodes_refused_total",
      help: "Node connections refused, by code",
      labelNames: ["code"],
      registers,
      collect() {
        this.reset();
        for (const [code, n] of Object.entries(read().nodesRefused)) this.inc({ code }, n);
      },
    });
  }

  request(endpoint: string, status: number, seconds: number): void {
    this.#requests.inc({ endpoint, status: String(status) });
    this.#duration.observe({ endpoint }, seconds);
  }

  charged(model: string, promptTokens: number, completionTokens: number): void {
    this.#tokens.inc({ model, kind: "prompt" }, promptTokens);
    this.#tokens.inc({ model, kind: "completion" }, completionTokens);
  }
}
