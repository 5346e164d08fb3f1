/**
 * The node pool against real worker nodes (NodeService + GatewayClient on the tiny model) and a
 * real in-process chain (PodDevnet) where the nodes are registered, bonded and banned.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { network } from "hardhat";
import { getAddress, stringToHex, type Address, type Hex, type LocalAccount } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import WebSocket from "ws";
import { signNodeAuth } from "../../sdk/src/nodeProtocol.ts";
import { signNodeKeyOwnership } from "../../sdk/src/typedData.ts";
import { hashTokenIds, signReceipt, verifyReceipt } from "../../sdk/src/receipt.ts";
import { GatewayClient } from "../../node/src/gateway/client.ts";
import { NodeService } from "../../node/src/service.ts";
import { loadTiny, TINY } from "../../node/test/fixtures.ts";
import { deployCore, POD, type Core } from "../../test/helpers/fixture.ts";
import { actAsTimelock, stake } from "../../test/helpers/unit.ts";
import { AllAttemptsFailed, DispatchAborted, MidStreamFailure, NodePool, NoNodeForModel, OnChainNodeAuthorizer, type DispatchEvent, type StreamedToken } from "../src/pool/index.ts";

const CHAIN_ID = 31337;
const connection = await network.create();
let core: Core;
let server: Server;
let pool: NodePool;
let url: string;
const clients: GatewayClient[] = [];

type Wallet = Core["alice"];
type Node = { key: LocalAccount; service: NodeService; client: GatewayClient };

async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Registers `key` on-chain for `owner`, serving the tiny model, with a proof over its key nonce. */
async function register(owner: Wallet, key: LocalAccount, models: readonly string[] = [TINY]): Promise<void> {
  const nonce = await core.nodeRegistry.read.keyNonce([key.address]);
  const proof = await signNodeKeyOwnership(key, { account: owner.account.address, nonce, chainId: CHAIN_ID, registry: core.nodeRegistry.address });
  await core.nodeRegistry.write.registerNode([key.address, models.map((m) => stringToHex(m, { size: 32 })), "ipfs://node", proof], { account: owner.account });
}

/** A real worker node dialling the pool; resolves once the client reaches `expect`. */
async function startNode(expect: "ready" | "closed", key = privateKeyToAccount(generatePrivateKey())): Promise<Node> {
  const service = new NodeService(key, [await loadTiny()], { maxBatch: 8, maxPrefillTokens: 4096, chainId: CHAIN_ID });
  const client = new GatewayClient(service, { url, nodeVersion: "test", calibratedTokensPerSecond: 100, statusIntervalMs: 60_000, reconnectMinMs: 50, reconnectMaxMs: 200 });
  clients.push(client);
  const reached = new Promise<void>((resolve) => {
    client.onStateChange = (state) => state === expect && resolve();
  });
  client.start();
  await reached;
  return { key, service, client };
}

/** The client's live socket (private to GatewayClient): terminating it is killing the node's link. */
const socketOf = (client: GatewayClient): WebSocket => Reflect.get(client, "socket") as WebSocket;

const request = (prompt: string, maxTokens: number) => ({ model: TINY, prompt, max_tokens: maxTokens, temperature: 0 });

type Outcome = { tokens: StreamedToken[]; results: Extract<DispatchEvent, { type: "result" }>[] };
async function collect(stream: AsyncIterable<DispatchEvent>, onToken?: (e: Extract<DispatchEvent, { type: "token" }>, n: number) => void): Promise<Outcome> {
  const out: Outcome = { tokens: [], results: [] };
  for await (const event of stream) {
    if (event.type === "token") {
      out.tokens.push(event.token);
      onToken?.(event, out.tokens.length);
    } else out.results.push(event);
  }
  return out;
}

/**
 * A registered node that speaks the protocol but lies: it claims great capacity and speed (so it
 * is chosen first) and answers every job at once with a result whose receipt another key signed.
 */
async function liarNode(key: LocalAccount): Promise<{ socket: WebSocket; jobs: string[] }> {
  const socket = new WebSocket(url);
  const jobs: string[] = [];
  const other = privateKeyToAccount(generatePrivateKey());
  const welcomed = new Promise<void>((resolve, reject) => {
    socket.on("error", reject);
    socket.on("message", async (data) => {
      const m = JSON.parse(String(data)) as { type: string; nonce: Hex; gatewayId: string; chainId: number; jobId: string };
      if (m.type === "welcome") resolve();
      if (m.type === "challenge") {
        const auth = await signNodeAuth(key, m, m.chainId);
        const models = [{ id: TINY, contextLength: 128, manifestSha256: "liar" }];
        socket.send(JSON.stringify({ type: "hello", protocol: 1, node: key.address, nodeVersion: "liar", provider: "cpu", models, capacity: { maxConcurrent: 64 }, speed: { tokensPerSecond: 1e6 }, auth }));
      }
      if (m.type === "job") {
        jobs.push(m.jobId);
        const timings = { startedAt: Date.now(), firstTokenMs: 0, totalMs: 0 };
        const result = { requestId: m.jobId, model: TINY, text: "", finishReason: "stop", promptTokenIds: [1], outputTokenIds: [], logprobs: [], usage: { promptTokens: 1, completionTokens: 0 }, seed: 1, timings };
        const fields = { requestId: m.jobId, modelId: TINY, promptHash: hashTokenIds([1]), outputHash: hashTokenIds([]), logprobsHash: hashTokenIds([]), promptTokens: 1, outputTokens: 0, ...timings };
        socket.send(JSON.stringify({ type: "result", jobId: m.jobId, result, receipt: await signReceipt(other, fields, CHAIN_ID) }));
      }
    });
  });
  await welcomed;
  return { socket, jobs };
}

let bondedNode: Node;
let nodes: Node[];

before(async () => {
  core = await deployCore(connection);
  // Alice's account is bonded; Bob's and Carol's are not.
  await stake(core, core.alice, 1000n * POD);
  await core.bondManager.write.bond([10n ** 24n], { account: core.alice.account });
  server = createServer((_req, res) => res.writeHead(404).end());
  pool = new NodePool({
    gatewayId: "gw-test",
    chainId: CHAIN_ID,
    authorizer: new OnChainNodeAuthorizer({ client: core.publicClient, nodeRegistry: core.nodeRegistry.address, bondManager: core.bondManager.address, cacheTtlMs: 0 }),
    reauthorizeIntervalMs: 60_000,
    stallTimeoutMs: 10_000,
  });
  pool.attach(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/v1/nodes/ws`;

  const keys = [0, 1, 2].map(() => privateKeyToAccount(generatePrivateKey()));
  await register(core.alice, keys[0]!);
  await register(core.bob, keys[1]!);
  await register(core.carol, keys[2]!);
  // One at a time: the first load builds the model, and node's ensureModel is not safe to race.
  nodes = [];
  for (const key of keys) nodes.push(await startNode("ready", key));
  bondedNode = nodes[0]!;
});

after(async () => {
  await Promise.all(clients.map((c) => c.leave("test over")));
  await pool.close();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

test("admission: registered nodes join with their account and bond status; an unregistered node is refused", async () => {
  await until("three nodes in the pool", () => pool.nodes().length === 3);
  const byNode = new Map(pool.nodes().map((n) => [n.node, n]));
  assert.equal(byNode.get(bondedNode.key.address)?.bonded, true);
  assert.equal(byNode.get(bondedNode.key.address)?.account, getAddress(core.alice.account.address));
  assert.equal(byNode.get(nodes[1]!.key.address)?.bonded, false);
  assert.deepEqual(byNode.get(nodes[1]!.key.address)?.models, [TINY]);
  assert.deepEqual(pool.models(), [{ id: TINY, nodes: 3, contextLength: nodes[0]!.service.models[0]!.manifest.contextLength }]);

  await startNode("closed"); // a fresh key nobody registered
  assert.equal(pool.metrics().nodesRefused.not_registered, 1);
  assert.equal(pool.nodes().length, 3);
});

/** Opens a raw connection, answers the challenge with `reply`, and returns the refusal it gets. */
async function refusalFor(reply: (challenge: { nonce: Hex; gatewayId: string; chainId: number }) => Promise<string | Buffer>): Promise<{ code: string; closeCode: number }> {
  const socket = new WebSocket(url);
  let code = "";
  return new Promise((resolve, reject) => {
    socket.on("error", reject);
    socket.on("message", async (data) => {
      const m = JSON.parse(String(data)) as { type: string; code: string; nonce: Hex; gatewayId: string; chainId: number };
      if (m.type === "challenge") socket.send(await reply(m));
      if (m.type === "error") code = m.code;
    });
    socket.on("close", (closeCode) => resolve({ code, closeCode }));
  });
}

test("handshake refusals: a hello signed by another key, a stale auth, a frame other than hello, a binary frame", async () => {
  const key = privateKeyToAccount(generatePrivateKey());
  const impostor = privateKeyToAccount(generatePrivateKey());
  const hello = (node: Address, auth: { issuedAt: number; signature: Hex }) =>
    JSON.stringify({ type: "hello", protocol: 1, node, nodeVersion: "t", provider: "cpu", models: [{ id: TINY, contextLength: 128, manifestSha256: "x" }], capacity: { maxConcurrent: 1 }, speed: { tokensPerSecond: 1 }, auth });
  assert.deepEqual(await refusalFor(async (c) => hello(bondedNode.key.address, await signNodeAuth(impostor, c, c.chainId))), { code: "bad_auth", closeCode: 4001 });
  assert.deepEqual(await refusalFor(async (c) => hello(key.address, await signNodeAuth(key, c, c.chainId, Date.now() - 120_000))), { code: "bad_auth", closeCode: 4001 });
  assert.deepEqual(await refusalFor(async () => JSON.stringify({ type: "status", activeJobs: 0, queuedJobs: 0, capacity: 1, tokensPerSecond: 0, draining: false })), { code: "protocol", closeCode: 4001 });
  assert.deepEqual(await refusalFor(async () => Buffer.from([1, 2, 3])), { code: "protocol", closeCode: 4001 });
  assert.equal(pool.nodes().length, 3, "an impostor of a connected node does not disturb it");
});

test("dispatch: tokens stream, then one result with a receipt signed by the serving node", async () => {
  const { tokens, results } = await collect(pool.dispatch(TINY, request("Hello pool", 6), { requestId: "req-basic" }));
  assert.equal(results.length, 1);
  const done = results[0]!;
  assert.equal(tokens.length, 6);
  assert.deepEqual(done.result.outputTokenIds, tokens.map((t) => t.tokenId));
  assert.equal(done.receipt.receipt.requestId, "req-basic");
  assert.equal((await verifyReceipt(done.receipt, { expectedSigner: done.node, chainId: CHAIN_ID })).valid, true);
  assert.equal(done.attempts, 1);
  await assert.rejects(collect(pool.dispatch("no-such-model", request("x", 1))), NoNodeForModel);
});

test("bonded_only: only the bonded account's node serves", async () => {
  const outcomes = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => collect(pool.dispatch(TINY, request(`bonded ${i}`, 3), { bondedOnly: true }))));
  for (const o of outcomes) assert.equal(o.results[0]?.node, bondedNode.key.address);
  const anyNode = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => collect(pool.dispatch(TINY, request(`any ${i}`, 3)))));
  assert.ok(new Set(anyNode.map((o) => o.results[0]?.node)).size > 1, "without the flag the load spreads");
});

test("a node killed before its first token: the request is served by another node", async () => {
  let killed: Address | undefined;
  for (const n of nodes) {
    socketOf(n.client).prependListener("message", (data: WebSocket.RawData) => {
      if (killed === undefined && String(data).includes('"type":"job"')) {
        killed = n.key.address;
        socketOf(n.client).terminate();
      }
    });
  }
  const before = pool.metrics();
  const { tokens, results } = await collect(pool.dispatch(TINY, request("Survive a crash", 5)));
  assert.ok(killed !== undefined);
  assert.equal(results.length, 1);
  assert.notEqual(results[0]!.node, killed);
  assert.equal(results[0]!.attempts, 2);
  assert.equal(tokens.length, 5);
  const after = pool.metrics();
  assert.equal(after.retries - before.retries, 1);
  assert.equal(after.nodeFailures - before.nodeFailures, 1);
  // The killed node reconnects on its own; its failure follows its key into the new session.
  await until("the killed node back in the pool", () => pool.nodes().length === 3);
  assert.ok(pool.nodes().find((n) => n.node === killed)!.failureScore > 0.5);
});

test("a node killed mid-stream: MidStreamFailure carries exactly the tokens delivered", async () => {
  const delivered: StreamedToken[] = [];
  let victim: Address | undefined;
  const stream = pool.dispatch(TINY, request("Die halfway", 400));
  await assert.rejects(
    collect(stream, (event, n) => {
      delivered.push(event.token);
      if (n === 3) {
        victim = event.node;
        socketOf(nodes.find((x) => x.key.address === event.node)!.client).terminate();
      }
    }),
    (error: unknown) => {
      assert.ok(error instanceof MidStreamFailure);
      assert.equal(error.node, victim);
      assert.equal(error.code, "node_disconnected");
      assert.deepEqual(error.delivered, delivered);
      assert.ok(delivered.length >= 3 && delivered.length < 400);
      return true;
    },
  );
  await until("the killed node back in the pool", () => pool.nodes().length === 3);
});

test("caller abort cancels the job on the node", async () => {
  const controller = new AbortController();
  let served: Address | undefined;
  await assert.rejects(
    collect(pool.dispatch(TINY, request("Abort me", 400), { signal: controller.signal }), (event, n) => {
      served = event.node;
      if (n === 2) controller.abort();
    }),
    DispatchAborted,
  );
  const node = nodes.find((x) => x.key.address === served)!;
  await until("the node to stop the cancelled job", () => node.service.load.inFlight === 0);
  assert.equal(pool.nodes().find((n) => n.node === served)?.inFlight, 0);
});

test("50 concurrent requests over 3 nodes are all answered exactly once", async () => {
  const started = Date.now();
  const outcomes = await Promise.all(Array.from({ length: 50 }, (_, i) => collect(pool.dispatch(TINY, request(`Concurrent request ${i}`, 8), { requestId: `conc-${i}` }))));
  const elapsed = Date.now() - started;
  const ids = new Set<string>();
  const perNode = new Map<string, number>();
  for (const [i, o] of outcomes.entries()) {
    assert.equal(o.results.length, 1, "exactly one result");
    const r = o.results[0]!;
    assert.equal(r.receipt.receipt.requestId, `conc-${i}`);
    assert.deepEqual(r.result.outputTokenIds, o.tokens.map((t) => t.tokenId));
    ids.add(r.receipt.receipt.requestId);
    perNode.set(r.node, (perNode.get(r.node) ?? 0) + 1);
  }
  assert.equal(ids.size, 50);
  assert.ok(perNode.size >= 2, `load spread over ${perNode.size} node(s)`);
  assert.equal(pool.metrics().requestsInFlight, 0);
  assert.equal(pool.metrics().jobsInFlight, 0);
  console.log(`50 concurrent requests in ${elapsed} ms; per node: ${[...perNode.values()].join(", ")}`);
});

test("a result whose receipt the node did not sign counts as a node failure and is retried", async () => {
  const key = privateKeyToAccount(generatePrivateKey());
  await register(core.deployer, key);
  const liar = await liarNode(key);
  const before = pool.metrics();
  const { tokens, results } = await collect(pool.dispatch(TINY, request("Honest answer please", 4), { requestId: "req-liar" }));
  assert.deepEqual(liar.jobs, ["req-liar"], "the liar was tried first");
  assert.equal(results.length, 1);
  assert.notEqual(results[0]!.node, key.address);
  assert.equal(results[0]!.attempts, 2);
  assert.equal(tokens.length, 4);
  assert.equal(pool.metrics().invalidResults - before.invalidResults, 1);
  assert.ok(pool.nodes().find((n) => n.node === key.address)!.failureScore > 0.99);
  liar.socket.close();
  await until("the liar gone", () => pool.nodes().length === 3);
});

test("authorizer: another model only -> no_served_model; suspended -> banned_or_suspended; answers cached", async () => {
  const otherModel = privateKeyToAccount(generatePrivateKey());
  await register(core.carol, otherModel, ["pod-other-model"]);
  await startNode("closed", otherModel);
  assert.equal(pool.metrics().nodesRefused.no_served_model, 1);

  let reads = 0;
  const client = { readContract: ((args) => (reads++, core.publicClient.readContract(args))) as typeof core.publicClient.readContract };
  const authorizer = new OnChainNodeAuthorizer({ client, nodeRegistry: core.nodeRegistry.address, bondManager: core.bondManager.address, cacheTtlMs: 60_000 });
  const suspended = privateKeyToAccount(generatePrivateKey());
  await register(core.carol, suspended);
  assert.deepEqual(await authorizer.authorize(suspended.address, [TINY, "x".repeat(40)]), { ok: true, account: getAddress(core.carol.account.address), bonded: false, models: [TINY] });
  const readsOnce = reads;
  await authorizer.authorize(suspended.address, [TINY, "x".repeat(40)]);
  assert.equal(reads, readsOnce, "the second answer comes from the cache");
  const timelock = await actAsTimelock(connection, core);
  await core.nodeRegistry.write.setNodeSuspended([suspended.address, true, stringToHex("review", { size: 32 })], { account: timelock });
  const fresh = new OnChainNodeAuthorizer({ client, nodeRegistry: core.nodeRegistry.address, bondManager: core.bondManager.address, cacheTtlMs: 0 });
  const verdict = await fresh.authorize(suspended.address, [TINY]);
  assert.ok(!verdict.ok && verdict.code === "banned_or_suspended");
});

test("a node banned while connected is dropped at the re-check, and refused when it comes back", async () => {
  const key = privateKeyToAccount(generatePrivateKey());
  await register(core.dave, key);
  const dave = await startNode("ready", key);
  await until("dave's node in the pool", () => pool.nodes().some((n) => n.node === key.address));
  const timelock = await actAsTimelock(connection, core);
  await core.nodeRegistry.write.banNode([key.address, stringToHex("test ban", { size: 32 }) as Hex], { account: timelock });
  const closed = new Promise<void>((resolve) => (dave.client.onStateChange = (s) => s === "closed" && resolve()));
  await pool.reauthorize();
  await closed;
  assert.equal(pool.nodes().some((n) => n.node === key.address), false);
  assert.equal(pool.metrics().nodesDropped, 1);
  const refusedBefore = pool.metrics().nodesRefused.banned_or_suspended ?? 0;
  const back = new Promise<void>((resolve) => (dave.client.onStateChange = (s) => s === "closed" && resolve()));
  dave.client.start();
  await back;
  assert.equal(pool.metrics().nodesRefused.banned_or_suspended, refusedBefore + 1);
});

test("a leaving node gets no new work; when every node is gone, requests fail fast", async () => {
  await Promise.all(nodes.slice(1).map((n) => n.client.leave("maintenance")));
  await until("two nodes gone", () => pool.nodes().length === 1);
  const { results } = await collect(pool.dispatch(TINY, request("Last node standing", 2)));
  assert.equal(results[0]?.node, bondedNode.key.address);
  const metrics = pool.metrics();
  assert.deepEqual(metrics.nodesByModel, { [TINY]: 1 });
  await bondedNode.client.leave("maintenance");
  await until("pool empty", () => pool.nodes().length === 0);
  await assert.rejects(collect(pool.dispatch(TINY, request("Nobody home", 2))), NoNodeForModel);
  assert.ok(!(new NoNodeForModel(TINY, false) instanceof AllAttemptsFailed));
});
