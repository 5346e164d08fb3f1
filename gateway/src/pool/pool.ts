/**
 * The node pool: worker nodes dial in over WebSocket (sdk/src/nodeProtocol.ts), prove their node
 * key by signing this connection's challenge, and are admitted when the authorizer (the on-chain
 * registry) says so. The pool tracks each node's models, capacity, load, speed and failures,
 * re-checks authorization periodically (a node banned while connected is dropped), and routes
 * requests to them (dispatch.ts). Thin I/O: the decisions live in handshake.ts and routing.ts.
 */
import { randomBytes, randomUUID } from "node:crypto";
import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import { bytesToHex, type Address, type Hex } from "viem";
import WebSocket, { WebSocketServer } from "ws";
import { NODE_PROTOCOL_VERSION, ProtocolError, type GatewayMessage, type InferenceRequest } from "../../../sdk/src/nodeProtocol.ts";
import type { NodeAuthorizer } from "./authorizer.ts";
import { dispatchRequest, type DispatchEvent, type DispatchOptions } from "./dispatch.ts";
import { readNodeFrame, type HelloFrame } from "./frames.ts";
import { BatchedReceiptVerifier } from "./receiptBatch.ts";
import { advertisedModels, verifyHello, type Challenge } from "./handshake.ts";
import { newCounters, type PoolCounters, type PoolMetrics } from "./metrics.ts";
import { decayFailures } from "./routing.ts";
import { newNodeRecord, NodeSession, type NodeRecord } from "./session.ts";

export type PoolLogger = (level: "info" | "warn" | "error", message: string, fields?: Record<string, unknown>) => void;

export type NodePoolConfig = {
  /** Signed into every node's auth: a hello for another gateway does not verify here. */
  gatewayId: string;
  chainId: number;
  authorizer: NodeAuthorizer;
  /** Upgrade path the pool answers on when attached to an http.Server. */
  path: string;
  /** A connection that sends no hello in this time is refused. */
  helloTimeoutMs: number;
  /** How old a hello's signed auth may be. */
  authMaxAgeMs: number;
  /** Told to nodes in welcome: how often to send status. */
  statusIntervalMs: number;
  /** How often every connected node's authorization is checked again. */
  reauthorizeIntervalMs: number;
  /** Nodes tried per request before AllAttemptsFailed (retries happen only before the first token). */
  maxAttempts: number;
  /** A job with no frame for this long is cancelled and counts as a node failure. */
  stallTimeoutMs: number;
  /** Recent failures halve every this many ms. */
  failureHalfLifeMs: number;
  /** Weight of each new speed sample in the node's EWMA. */
  speedAlpha: number;
  maxPayloadBytes: number;
  /** When set, only these model ids with exactly these manifest hashes are routed to. */
  approvedManifests?: Readonly<Record<string, string>>;
  now: () => number;
  log: PoolLogger;
};

export type NodePoolOptions = Pick<NodePoolConfig, "gatewayId" | "chainId" | "authorizer"> & Partial<NodePoolConfig>;

export const POOL_DEFAULTS = {
  path: "/v1/nodes/ws",
  helloTimeoutMs: 10_000,
  authMaxAgeMs: 60_000,
  statusIntervalMs: 5_000,
  reauthorizeIntervalMs: 30_000,
  maxAttempts: 3,
  stallTimeoutMs: 30_000,
  failureHalfLifeMs: 60_000,
  speedAlpha: 0.3,
  maxPayloadBytes: 8 * 1024 * 1024,
} as const;

/** What the pool knows of one connected node (a copy; for status pages and tests). */
export type NodeInfo = {
  node: Address;
  account: Address;
  sessionId: string;
  bonded: boolean;
  models: string[];
  capacity: number;
  inFlight: number;
  reportedLoad: number;
  draining: boolean;
  tokensPerSecond: number;
  speedMeasured: boolean;
  failureScore: number;
};

export type ModelInfo = { id: string; nodes: number; contextLength: number };

/** WebSocket close codes the pool uses beyond the standard ones. */
export const CLOSE_REFUSED = 4001;
export const CLOSE_REPLACED = 4002;
export const CLOSE_TRY_LATER = 1013;

export class NodePool {
  readonly config: NodePoolConfig;
  private readonly wss: WebSocketServer;
  /** Accepted sessions by lower-cased node address: one connection per node key. */
  private readonly sessions = new Map<string, NodeSession>();
  /** Failures and measured speed by lower-cased node address, kept across reconnects. */
  private readonly records = new Map<string, NodeRecord>();
  private readonly counters: PoolCounters = newCounters();
  /** One per pool: each node key is recovered once, later receipts take the fast check, batched. */
  private readonly receiptVerifier = new BatchedReceiptVerifier();
  private readonly reauthorizeTimer: NodeJS.Timeout;
  private reauthorizing: Promise<void> | undefined;
  private closed = false;

  constructor(options: NodePoolOptions) {
    this.config = { ...POOL_DEFAULTS, now: Date.now, log: () => {}, ...options };
    this.wss = new WebSocketServer({ noServer: true, maxPayload: this.config.maxPayloadBytes });
    this.wss.on("connection", (socket) => this.onConnection(socket));
    this.reauthorizeTimer = setInterval(() => void this.reauthorize(), this.config.reauthorizeIntervalMs);
    this.reauthorizeTimer.unref();
  }

  /** Answers WebSocket upgrades on `config.path` of `server`; other upgrades are left alone. */
  attach(server: Server): void {
    server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => this.handleUpgrade(req, socket, head));
  }

  /** Takes the upgrade if it is for the pool's path; returns whether it did. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const path = new URL(req.url ?? "/", "http://pool").pathname;
    if (path !== this.config.path) return false;
    if (this.closed) {
      socket.destroy();
      return true;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.wss.emit("connection", ws, req));
    return true;
  }

  /**
   * Runs `request` on a node serving `model`: token events, then one result carrying the
   * verified, node-signed receipt. Throws NoNodeForModel, AllAttemptsFailed, MidStreamFailure
   * (with the tokens delivered), JobRejected or DispatchAborted. Stop reading to cancel.
   */
  dispatch(model: string, request: InferenceRequest | Record<string, unknown>, options: DispatchOptions = {}): AsyncGenerator<DispatchEvent, void, undefined> {
    return dispatchRequest(
      { sessionsFor: (m) => this.sessionsFor(m), maxAttempts: this.config.maxAttempts, chainId: this.config.chainId, verifier: this.receiptVerifier, counters: this.counters, now: this.config.now },
      model,
      request,
      options,
    );
  }

  /** Connected nodes. */
  nodes(): NodeInfo[] {
    const now = this.config.now();
    return [...this.sessions.values()].map((s) => ({
      node: s.node,
      account: s.account,
      sessionId: s.id,
      bonded: s.bonded,
      models: [...s.models],
      capacity: s.capacity,
      inFlight: s.inFlight,
      reportedLoad: s.reportedLoad,
      draining: s.draining,
      tokensPerSecond: s.tokensPerSecond,
      speedMeasured: s.isSpeedMeasured,
      failureScore: s.failureScore(now),
    }));
  }

  /** Models some non-draining node serves now, with the smallest context length among them. */
  models(): ModelInfo[] {
    const byId = new Map<string, ModelInfo>();
    for (const s of this.sessions.values()) {
      if (s.draining) continue;
      for (const advert of s.adverts) {
        if (!s.models.has(advert.id)) continue;
        const seen = byId.get(advert.id);
        byId.set(advert.id, { id: advert.id, nodes: (seen?.nodes ?? 0) + 1, contextLength: Math.min(seen?.contextLength ?? Infinity, advert.contextLength) });
      }
    }
    return [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  metrics(): PoolMetrics {
    const nodesByModel: Record<string, number> = {};
    let nodesBonded = 0;
    let nodesDraining = 0;
    let jobsInFlight = 0;
    let capacity = 0;
    for (const s of this.sessions.values()) {
      jobsInFlight += s.inFlight;
      if (s.bonded) nodesBonded++;
      if (s.draining) {
        nodesDraining++;
        continue;
      }
      capacity += s.capacity;
      for (const m of s.models) nodesByModel[m] = (nodesByModel[m] ?? 0) + 1;
    }
    const counters = { ...this.counters, nodesRefused: { ...this.counters.nodesRefused } };
    return { ...counters, nodesConnected: this.sessions.size, nodesBonded, nodesDraining, nodesByModel, jobsInFlight, capacity };
  }

  /** Asks a node to finish its jobs and leave; it gets no new job meanwhile. */
  drainNode(node: Address, reason: string): boolean {
    const session = this.sessions.get(node.toLowerCase());
    if (session === undefined) return false;
    session.draining = true;
    session.send({ type: "drain", reason });
    return true;
  }

  /**
   * Checks every connected node's authorization again: banned, suspended or deregistered nodes
   * are dropped (their jobs fail over as disconnects); models and bond status are refreshed.
   * When the registry cannot be read, nodes keep their last authorization.
   */
  reauthorize(): Promise<void> {
    this.reauthorizing ??= this.reauthorizeAll().finally(() => (this.reauthorizing = undefined));
    return this.reauthorizing;
  }

  /** Drops every node and stops accepting; jobs in flight fail as disconnects. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.reauthorizeTimer);
    for (const session of this.sessions.values()) session.close(1001, "gateway shutting down");
    this.sessions.clear();
    for (const socket of this.wss.clients) socket.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private sessionsFor(model: string): NodeSession[] {
    const out: NodeSession[] = [];
    for (const s of this.sessions.values()) if (s.models.has(model)) out.push(s);
    return out;
  }

  private onConnection(socket: WebSocket): void {
    const challenge: Challenge = { nonce: bytesToHex(randomBytes(32)) as Hex, gatewayId: this.config.gatewayId, chainId: this.config.chainId };
    let session: NodeSession | undefined;
    let helloSeen = false;
    const helloTimer = setTimeout(() => this.refuse(socket, "protocol", `no hello within ${this.config.helloTimeoutMs} ms`), this.config.helloTimeoutMs);
    helloTimer.unref();
    sendFrame(socket, { type: "challenge", protocol: NODE_PROTOCOL_VERSION, ...challenge });

    socket.on("message", (data, isBinary) => {
      let message;
      try {
        if (isBinary) throw new ProtocolError("binary frames are not part of the protocol");
        message = readNodeFrame(String(data));
      } catch (error) {
        const why = error instanceof Error ? error.message : String(error);
        if (session === undefined) return this.refuse(socket, "protocol", why);
        this.config.log("warn", "protocol error from node; closing", { node: session.node, why });
        session.send({ type: "error", code: "protocol", message: why });
        return session.close(1002, "protocol error");
      }
      if (session !== undefined) return session.onFrame(message);
      // A node may leave at any moment, even while its hello is being checked.
      if (message.type === "bye" || message.type === "leaving") return socket.close(1000, "bye");
      if (helloSeen || message.type !== "hello") return this.refuse(socket, "protocol", `expected hello, got ${message.type}`);
      helloSeen = true;
      clearTimeout(helloTimer);
      this.admit(socket, message, challenge).then(
        (accepted) => (session = accepted),
        (error: unknown) => {
          this.config.log("error", "node admission failed", { error: String(error) });
          socket.close(CLOSE_TRY_LATER, "try again later");
        },
      );
    });
    socket.on("close", (code, reason) => {
      clearTimeout(helloTimer);
      if (session === undefined) return;
      session.onClosed(`${code} ${reason.toString()}`.trim());
      if (this.sessions.get(session.node.toLowerCase()) === session) this.sessions.delete(session.node.toLowerCase());
    });
    socket.on("error", (error) => this.config.log("warn", "node connection error", { node: session?.node, error: error.message }));
  }

  /** Verifies the hello and asks the authorizer; on success the node is in the pool. */
  private async admit(socket: WebSocket, hello: HelloFrame, challenge: Challenge): Promise<NodeSession | undefined> {
    const verdict = await verifyHello(hello, challenge, this.config.now(), this.config.authMaxAgeMs);
    if (!verdict.ok) return this.refuse(socket, verdict.code, verdict.message);
    const wanted = advertisedModels(hello.models, this.config.approvedManifests);
    if (wanted.length === 0) return this.refuse(socket, "no_served_model", "none of the advertised models is approved on this gateway");
    let auth;
    try {
      auth = await this.config.authorizer.authorize(hello.node, wanted);
    } catch (error) {
      // The registry could not be read: not the node's fault, so no refusal (the node reconnects).
      this.config.log("warn", "cannot check node authorization; asking it to retry", { node: hello.node, error: String(error) });
      socket.close(CLOSE_TRY_LATER, "registry unavailable");
      return undefined;
    }
    if (!auth.ok) return this.refuse(socket, auth.code, auth.message);
    if (socket.readyState !== WebSocket.OPEN || this.closed) return undefined;

    const key = hello.node.toLowerCase();
    let record = this.records.get(key);
    if (record === undefined) this.records.set(key, (record = newNodeRecord()));
    // A node that reconnects (its old socket may be half-open) replaces its previous session.
    this.sessions.get(key)?.close(CLOSE_REPLACED, "replaced by a newer connection");
    const session = new NodeSession(
      socket,
      {
        id: randomUUID(),
        node: hello.node,
        account: auth.account,
        bonded: auth.bonded,
        models: auth.models,
        adverts: hello.models,
        capacity: hello.capacity.maxConcurrent,
        claimedTokensPerSecond: hello.speed.tokensPerSecond,
        record,
      },
      { stallTimeoutMs: this.config.stallTimeoutMs, failureHalfLifeMs: this.config.failureHalfLifeMs, speedAlpha: this.config.speedAlpha, now: this.config.now },
    );
    this.sessions.set(key, session);
    this.counters.nodesAccepted++;
    session.send({ type: "welcome", sessionId: session.id, statusIntervalMs: this.config.statusIntervalMs });
    this.config.log("info", "node joined the pool", { node: hello.node, account: auth.account, bonded: auth.bonded, models: auth.models });
    return session;
  }

  private refuse(socket: WebSocket, code: string, message: string): undefined {
    this.counters.nodesRefused[code] = (this.counters.nodesRefused[code] ?? 0) + 1;
    this.config.log("warn", "node refused", { code, message });
    sendFrame(socket, { type: "error", code, message });
    if (socket.readyState === WebSocket.OPEN) socket.close(CLOSE_REFUSED, code);
    return undefined;
  }

  private async reauthorizeAll(): Promise<void> {
    // Forget nodes that are gone and whose failures have faded (bounds the map).
    const now = this.config.now();
    for (const [key, record] of this.records) {
      if (!this.sessions.has(key) && decayFailures(record.failures, now, this.config.failureHalfLifeMs) < 0.01) this.records.delete(key);
    }
    await Promise.all(
      [...this.sessions.values()].map(async (session) => {
        let auth;
        try {
          auth = await this.config.authorizer.authorize(session.node, advertisedModels(session.adverts, this.config.approvedManifests));
        } catch (error) {
          this.config.log("warn", "re-check of node authorization failed; keeping the node", { node: session.node, error: String(error) });
          return;
        }
        if (session.isClosed) return;
        if (!auth.ok) {
          this.counters.nodesDropped++;
          this.config.log("warn", "node no longer authorized; dropping it", { node: session.node, code: auth.code });
          session.send({ type: "error", code: auth.code, message: auth.message });
          session.close(CLOSE_REFUSED, auth.code);
          if (this.sessions.get(session.node.toLowerCase()) === session) this.sessions.delete(session.node.toLowerCase());
          return;
        }
        session.account = auth.account;
        session.bonded = auth.bonded;
        session.models = new Set(auth.models);
      }),
    );
  }
}

function sendFrame(socket: WebSocket, message: GatewayMessage): void {
  if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
}
