/**
 * The pool's figures as plain numbers, for the /metrics module to render: monotonic counters
 * (PoolCounters) and gauges read from the live sessions (PoolMetrics).
 */

/** Monotonic counters, except the two in-flight gauges. */
export type PoolCounters = {
  /** Requests dispatched (one per dispatch call). */
  requests: number;
  requestsInFlight: number;
  /** Jobs sent to nodes (a retried request counts each attempt). */
  attempts: number;
  retries: number;
  succeeded: number;
  tokens: number;
  noNode: number;
  allAttemptsFailed: number;
  midStreamFailures: number;
  rejected: number;
  aborted: number;
  /** Attempts that failed through the node's fault (disconnect, stall, error, invalid result). */
  nodeFailures: number;
  /** Results whose receipt or content did not check out. */
  invalidResults: number;
  nodesAccepted: number;
  /** Connections refused, by error code (bad_auth, not_registered, ...). */
  nodesRefused: Record<string, number>;
  /** Accepted nodes dropped by a re-check (banned, suspended, deregistered while connected). */
  nodesDropped: number;
};

export function newCounters(): PoolCounters {
  return {
    requests: 0,
    requestsInFlight: 0,
    attempts: 0,
    retries: 0,
    succeeded: 0,
    tokens: 0,
    noNode: 0,
    allAttemptsFailed: 0,
    midStreamFailures: 0,
    rejected: 0,
    aborted: 0,
    nodeFailures: 0,
    invalidResults: 0,
    nodesAccepted: 0,
    nodesRefused: {},
    nodesDropped: 0,
  };
}

export type PoolMetrics = PoolCounters & {
  nodesConnected: number;
  nodesBonded: number;
  nodesDraining: number;
  /** Connected, non-draining nodes per model id. */
  nodesByModel: Record<string, number>;
  /** Jobs in flight on nodes, over all nodes. */
  jobsInFlight: number;
  /** Sum of the capacity of connected, non-draining nodes. */
  capacity: number;
};
