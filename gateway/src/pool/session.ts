/**
 * One accepted node connection: what the router knows of the node (models, capacity, load,
 * speed, failures, draining) and the jobs in flight on it, fed by the node's frames. Each job's
 * frames go to its JobChannel; a stalled or misbehaving job, or a closed socket, ends it.
 */
import WebSocket from "ws";
import type { Address } from "viem";
import type { GatewayMessage, ModelAdvert, NodeMessage } from "../../../sdk/src/nodeProtocol.ts";
import { JobChannel, type JobFailure } from "./job.ts";
import { addFailure, decayFailures, ewma, NO_FAILURES, type FailureRecord, type NodeCandidate } from "./routing.ts";

export type SessionTuning = { stallTimeoutMs: number; failureHalfLifeMs: number; speedAlpha: number; now: () => number };

type ActiveJob = { channel: JobChannel; nextIndex: number; stallTimer: NodeJS.Timeout };

/**
 * What the pool remembers of a node key across its connections, so that a node cannot shed its
 * failures (or its measured speed) by reconnecting.
 */
export type NodeRecord = { failures: FailureRecord; measuredTokensPerSecond: number | undefined };

export const newNodeRecord = (): NodeRecord => ({ failures: NO_FAILURES, measuredTokensPerSecond: undefined });

export type SessionInit = {
  id: string;
  node: Address;
  account: Address;
  bonded: boolean;
  models: readonly string[];
  adverts: readonly ModelAdvert[];
  capacity: number;
  claimedTokensPerSecond: number;
  record: NodeRecord;
};

export class NodeSession {
  readonly id: string;
  readonly node: Address;
  readonly adverts: readonly ModelAdvert[];
  readonly connectedAt: number;
  account: Address;
  bonded: boolean;
  /** The advertised models the registry lets it serve. */
  models: ReadonlySet<string>;
  capacity: number;
  /** Jobs the node says it runs or queues (its own endpoint's included), from its last status. */
  reportedLoad = 0;
  /** Leaving, asked to drain, or said so in a status: takes no new job. */
  draining = false;
  private readonly claimedTokensPerSecond: number;
  private readonly record: NodeRecord;
  private readonly jobs = new Map<string, ActiveJob>();
  private readonly socket: WebSocket;
  private readonly tuning: SessionTuning;
  private closed = false;

  constructor(socket: WebSocket, init: SessionInit, tuning: SessionTuning) {
    this.socket = socket;
    this.tuning = tuning;
    this.id = init.id;
    this.node = init.node;
    this.account = init.account;
    this.bonded = init.bonded;
    this.models = new Set(init.models);
    this.adverts = init.adverts;
    this.capacity = init.capacity;
    this.claimedTokensPerSecond = init.claimedTokensPerSecond;
    this.record = init.record;
    this.connectedAt = tuning.now();
  }

  get inFlight(): number {
    return this.jobs.size;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get tokensPerSecond(): number {
    return this.record.measuredTokensPerSecond ?? this.claimedTokensPerSecond;
  }

  get isSpeedMeasured(): boolean {
    return this.record.measuredTokensPerSecond !== undefined;
  }

  failureScore(now = this.tuning.now()): number {
    return decayFailures(this.record.failures, now, this.tuning.failureHalfLifeMs);
  }

  /** The router's view of this node now. */
  candidate(now = this.tuning.now()): NodeCandidate & { session: NodeSession } {
    return {
      session: this,
      node: this.node,
      bonded: this.bonded,
      draining: this.draining || this.closed,
      free: this.capacity - Math.max(this.inFlight, this.reportedLoad),
      tokensPerSecond: this.tokensPerSecond,
      failureScore: this.failureScore(now),
    };
  }

  recordFailure(): void {
    this.record.failures = addFailure(this.record.failures, this.tuning.now(), this.tuning.failureHalfLifeMs);
  }

  recordSpeed(tokensPerSecond: number): void {
    this.record.measuredTokensPerSecond = ewma(this.record.measuredTokensPerSecond, tokensPerSecond, this.tuning.speedAlpha);
  }

  send(message: GatewayMessage): void {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  /** Sends the job and returns the channel its frames arrive on. */
  startJob(jobId: string, request: unknown): JobChannel {
    if (this.jobs.has(jobId)) throw new Error(`job ${jobId} is already running on ${this.node}`);
    const channel = new JobChannel();
    const job: ActiveJob = { channel, nextIndex: 0, stallTimer: this.stallTimer(jobId) };
    this.jobs.set(jobId, job);
    this.send({ type: "job", jobId, request });
    return channel;
  }

  /** Tells the node to stop the job (the caller no longer wants it) and forgets it. */
  cancelJob(jobId: string): void {
    if (!this.jobs.has(jobId)) return;
    this.send({ type: "cancel", jobId });
    this.endJob(jobId, { code: "cancelled", message: "cancelled by the gateway", nodeFault: false });
  }

  /** The node's frames after welcome. */
  onFrame(message: NodeMessage): void {
    switch (message.type) {
      case "status":
        this.capacity = message.capacity;
        this.reportedLoad = message.activeJobs + message.queuedJobs;
        if (message.draining) this.draining = true;
        return;
      case "leaving":
      case "bye":
        this.draining = true;
        return;
      case "token": {
        const job = this.jobs.get(message.jobId);
        if (job === undefined) return; // a job we cancelled or gave up on
        if (message.index !== job.nextIndex) {
          this.send({ type: "cancel", jobId: message.jobId });
          return this.endJob(message.jobId, { code: "protocol", message: `token ${message.index} arrived, expected ${job.nextIndex}`, nodeFault: true });
        }
        job.nextIndex++;
        job.stallTimer.refresh();
        const { type: _type, jobId: _jobId, ...token } = message;
        job.channel.push({ type: "token", token });
        return;
      }
      case "result": {
        const job = this.jobs.get(message.jobId);
        if (job === undefined) return;
        this.forget(message.jobId);
        job.channel.push({ type: "result", result: message.result, receipt: message.receipt });
        return;
      }
      case "job_error":
        if (message.code === "node_draining") this.draining = true;
        return this.endJob(message.jobId, { code: message.code, message: message.message, nodeFault: isNodeFault(message.code) });
      case "hello":
        this.send({ type: "error", code: "protocol", message: "hello after welcome" });
        this.close(1002, "protocol");
        return;
    }
  }

  /** Closes the connection (if open); every job still in flight fails as a disconnect. */
  close(code: number, reason: string): void {
    if (this.socket.readyState === WebSocket.OPEN || this.socket.readyState === WebSocket.CONNECTING) this.socket.close(code, reason);
    this.onClosed(reason);
  }

  /** The socket is gone: nothing more will arrive for the jobs in flight. */
  onClosed(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    for (const jobId of [...this.jobs.keys()]) this.endJob(jobId, { code: "node_disconnected", message: `node connection closed: ${reason || "no reason"}`, nodeFault: true });
  }

  private stallTimer(jobId: string): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.send({ type: "cancel", jobId });
      this.endJob(jobId, { code: "node_stalled", message: `no frame for ${this.tuning.stallTimeoutMs} ms`, nodeFault: true });
    }, this.tuning.stallTimeoutMs);
    timer.unref();
    return timer;
  }

  private endJob(jobId: string, failure: JobFailure): void {
    const job = this.jobs.get(jobId);
    if (job === undefined) return;
    this.forget(jobId);
    job.channel.push({ type: "failed", failure });
  }

  private forget(jobId: string): void {
    const job = this.jobs.get(jobId);
    if (job === undefined) return;
    clearTimeout(job.stallTimer);
    this.jobs.delete(jobId);
  }
}

/** Node error codes that say the request itself is bad: another node would refuse it too. */
export const REQUEST_FAULT_CODES: ReadonlySet<string> = new Set(["invalid_request", "context_length_exceeded"]);

/** Whether a job_error code counts against the node (draining and bad requests do not). */
export function isNodeFault(code: string): boolean {
  return code !== "node_draining" && !REQUEST_FAULT_CODES.has(code);
}
