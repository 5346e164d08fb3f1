/**
 * The node's side of the gateway protocol (see sdk/src/nodeProtocol.ts for the messages). The
 * node dials out, answers the gateway's challenge with a signature of its node key, reports
 * capacity and speed, runs jobs with token streaming, and leaves by draining in-flight work.
 */
import WebSocket from "ws";
import { NODE_PROTOCOL_VERSION, ProtocolError, parseGatewayMessage, signNodeAuth, type GatewayMessage, type NodeMessage } from "../../../sdk/src/nodeProtocol.ts";
import { NodeError } from "../errors.ts";
import { log } from "../log.ts";
import type { NodeService } from "../service.ts";

export type GatewayClientConfig = {
  url: string;
  nodeVersion: string;
  /** Measured single-stream speed, reported until real traffic gives a better figure. */
  calibratedTokensPerSecond: number;
  statusIntervalMs: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
};

export type GatewayClientState = "connecting" | "authenticating" | "ready" | "leaving" | "closed";

/** Pure: the delay before reconnect attempt `attempt` (0-based), doubling up to the cap. */
export function reconnectDelay(attempt: number, minMs: number, maxMs: number): number {
  return Math.min(maxMs, minMs * 2 ** Math.min(attempt, 20));
}

export class GatewayClient {
  private readonly service: NodeService;
  private readonly config: GatewayClientConfig;
  private socket: WebSocket | undefined;
  private readonly jobs = new Map<string, AbortController>();
  /** Job handlers still running (their result may not be sent yet). */
  private readonly handlers = new Set<Promise<void>>();
  private statusTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private attempts = 0;
  private stopped = false;
  private leavePromise: Promise<void> | undefined;
  private lastTokens = 0;
  private lastStatusAt = Date.now();
  state: GatewayClientState = "closed";
  /** Set by the gateway's welcome. */
  sessionId: string | undefined;
  onStateChange: ((state: GatewayClientState) => void) | undefined;

  constructor(service: NodeService, config: GatewayClientConfig) {
    this.service = service;
    this.config = config;
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  /** Leaves gracefully: tells the gateway, finishes every job in flight, says bye, closes. */
  leave(reason: string): Promise<void> {
    this.leavePromise ??= this.doLeave(reason);
    return this.leavePromise;
  }

  private setState(state: GatewayClientState): void {
    this.state = state;
    this.onStateChange?.(state);
  }

  private connect(): void {
    this.setState("connecting");
    const socket = new WebSocket(this.config.url, { handshakeTimeout: 10_000 });
    this.socket = socket;
    socket.on("open", () => {
      this.setState("authenticating");
      log("info", "connected to gateway; waiting for challenge", { url: this.config.url });
    });
    socket.on("message", (data, isBinary) => {
      if (isBinary) return this.fail(socket, "binary frames are not part of the protocol");
      let message: GatewayMessage;
      try {
        message = parseGatewayMessage(String(data));
      } catch (error) {
        return this.fail(socket, error instanceof ProtocolError ? error.message : String(error));
      }
      this.handle(socket, message).catch((error: unknown) => log("error", "gateway message handling failed", { error: String(error) }));
    });
    socket.on("error", (error) => log("warn", "gateway connection error", { error: error.message }));
    socket.on("close", (code, reason) => this.onClose(socket, code, reason.toString()));
  }

  private fail(socket: WebSocket, why: string): void {
    log("error", "protocol error from gateway; closing", { why });
    socket.close(1002, why.slice(0, 120));
  }

  private send(message: NodeMessage): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  private async handle(socket: WebSocket, message: GatewayMessage): Promise<void> {
    switch (message.type) {
      case "challenge": {
        if (message.protocol !== NODE_PROTOCOL_VERSION) return this.fail(socket, `gateway speaks protocol ${message.protocol}, this node ${NODE_PROTOCOL_VERSION}`);
        const auth = await signNodeAuth(this.service.account, message, message.chainId);
        this.send({
          type: "hello",
          protocol: NODE_PROTOCOL_VERSION,
          node: this.service.account.address,
          nodeVersion: this.config.nodeVersion,
          provider: this.service.models[0]?.provider ?? "cpu",
          models: this.service.models.map((m) => ({ id: m.manifest.modelId, contextLength: m.manifest.contextLength, manifestSha256: m.manifestSha256 })),
          capacity: { maxConcurrent: this.service.config.maxBatch },
          speed: { tokensPerSecond: this.config.calibratedTokensPerSecond },
          auth,
        });
        return;
      }
      case "welcome":
        this.sessionId = message.sessionId;
        this.attempts = 0;
        this.setState("ready");
        log("info", "joined the gateway pool", { session: message.sessionId, node: this.service.account.address });
        this.sendStatus();
        clearInterval(this.statusTimer);
        this.statusTimer = setInterval(() => this.sendStatus(), message.statusIntervalMs ?? this.config.statusIntervalMs);
        return;
      case "job": {
        const handler = this.runJob(message.jobId, message.request);
        this.handlers.add(handler);
        await handler.finally(() => this.handlers.delete(handler));
        return;
      }
      case "cancel":
        this.jobs.get(message.jobId)?.abort();
        return;
      case "drain":
        log("info", "gateway asked this node to drain", { reason: message.reason ?? "" });
        await this.leave(message.reason ?? "drain requested by gateway");
        return;
      case "error":
        log("error", "gateway refused this node", { code: message.code, message: message.message });
        // Refusals such as a bad signature or a banned key will not fix themselves: stop.
        this.stopped = true;
        socket.close(1000);
        return;
    }
  }

  private async runJob(jobId: string, request: unknown): Promise<void> {
    if (this.state !== "ready" || this.service.isDraining) {
      this.send({ type: "job_error", jobId, code: "node_draining", message: "node is leaving; retry elsewhere" });
      return;
    }
    const abort = new AbortController();
    this.jobs.set(jobId, abort);
    this.sendStatus();
    try {
      const job = this.service.prepare(request, jobId);
      const { result, receipt } = await this.service.execute(job, {
        signal: abort.signal,
        onToken: (token) => this.send({ type: "token", jobId, ...token }),
      });
      this.send({ type: "result", jobId, result, receipt });
    } catch (error) {
      const code = error instanceof NodeError ? error.code : "internal_error";
      this.send({ type: "job_error", jobId, code, message: error instanceof Error ? error.message : String(error) });
    } finally {
      this.jobs.delete(jobId);
      this.sendStatus();
    }
  }

  /** Recent throughput when there was traffic, else the calibrated figure. */
  private tokensPerSecond(): number {
    const now = Date.now();
    const tokens = this.service.tokensGenerated();
    const rate = ((tokens - this.lastTokens) * 1000) / Math.max(1, now - this.lastStatusAt);
    this.lastTokens = tokens;
    this.lastStatusAt = now;
    return rate > 0 ? Math.round(rate * 10) / 10 : this.config.calibratedTokensPerSecond;
  }

  private sendStatus(): void {
    const load = this.service.load;
    this.send({ type: "status", activeJobs: this.jobs.size, queuedJobs: load.queued, capacity: this.service.config.maxBatch, tokensPerSecond: this.tokensPerSecond(), draining: this.state === "leaving" });
  }

  private async doLeave(reason: string): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    const wasReady = this.state === "ready";
    this.setState("leaving");
    if (wasReady) this.send({ type: "leaving", reason, inFlight: this.jobs.size });
    log("info", "leaving the pool; finishing jobs in flight", { inFlight: this.jobs.size });
    await this.service.drain();
    await Promise.all([...this.handlers]);
    clearInterval(this.statusTimer);
    this.send({ type: "bye" });
    const socket = this.socket;
    if (socket !== undefined && socket.readyState === WebSocket.OPEN) {
      await new Promise<void>((resolve) => {
        socket.once("close", () => resolve());
        socket.close(1000, "bye");
        setTimeout(resolve, 2_000).unref();
      });
    }
    this.setState("closed");
  }

  private onClose(socket: WebSocket, code: number, reason: string): void {
    if (socket !== this.socket) return;
    clearInterval(this.statusTimer);
    // Work for a connection that is gone cannot be delivered: stop it.
    for (const abort of this.jobs.values()) abort.abort();
    if (this.stopped) {
      if (this.state !== "leaving") this.setState("closed");
      return;
    }
    const delay = reconnectDelay(this.attempts++, this.config.reconnectMinMs, this.config.reconnectMaxMs);
    log("warn", "gateway connection closed; reconnecting", { code, reason, in_ms: delay });
    this.setState("connecting");
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }
}
