/** Pure parts of the node pool: routing order, failure decay, speed, hello and result checks. */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Address } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { signNodeAuth, type InferenceResult } from "../../sdk/src/nodeProtocol.ts";
import { hashLogprobs, hashTokenIds, signReceipt } from "../../sdk/src/receipt.ts";
import { ReceiptVerifier } from "../../sdk/src/receiptCheck/verifier.ts";
import { readNodeFrame, type HelloFrame } from "../src/pool/frames.ts";
import { advertisedModels, verifyHello } from "../src/pool/handshake.ts";
import { checkResult, JobChannel, type StreamedToken } from "../src/pool/job.ts";
import { addFailure, chooseNode, decayFailures, decodeSpeed, ewma, FAILURE_DEMOTION_SCORE, NO_FAILURES, rankNodes, type NodeCandidate } from "../src/pool/routing.ts";
import { registryModelId } from "../src/pool/authorizer.ts";
import { isNodeFault } from "../src/pool/session.ts";

const A = "0x000000000000000000000000000000000000000a" as Address;
const B = "0x000000000000000000000000000000000000000B" as Address;
const C = "0x000000000000000000000000000000000000000c" as Address;

const node = (n: Address, over: Partial<NodeCandidate> = {}): NodeCandidate => ({ node: n, bonded: false, draining: false, free: 4, tokensPerSecond: 100, failureScore: 0, ...over });
const order = (cs: NodeCandidate[], opts = {}) => rankNodes(cs, opts).map((c) => c.node);

test("chooseNode: a node with a free slot beats any full one, however fast", () => {
  assert.equal(chooseNode([node(A, { free: 0, tokensPerSecond: 10_000 }), node(B, { free: 1, tokensPerSecond: 1 })])?.node, B);
  // Every node full: the least overloaded queues the job.
  assert.equal(chooseNode([node(A, { free: -3 }), node(B, { free: 0 }), node(C, { free: -1 })])?.node, B);
});

test("chooseNode: more free slots first, then measured speed, then fewer failures, then address", () => {
  assert.equal(chooseNode([node(A, { free: 2, tokensPerSecond: 900 }), node(B, { free: 5, tokensPerSecond: 100 })])?.node, B);
  assert.equal(chooseNode([node(A, { tokensPerSecond: 90 }), node(B, { tokensPerSecond: 120 })])?.node, B);
  assert.equal(chooseNode([node(A, { failureScore: 0.3 }), node(B, { failureScore: 0.1 })])?.node, B);
  assert.equal(chooseNode([node(C), node(B), node(A)])?.node, A, "ties go to the lowest address");
  assert.deepEqual(order([node(C), node(B), node(A)]), [A, B, C]);
});

test("chooseNode: recent failures demote a node among nodes with room, never below a full one", () => {
  const failing = node(A, { free: 8, tokensPerSecond: 1000, failureScore: FAILURE_DEMOTION_SCORE });
  const healthy = node(B, { free: 1, tokensPerSecond: 10 });
  assert.equal(chooseNode([failing, healthy])?.node, B);
  assert.equal(chooseNode([failing, node(B, { free: 0 })])?.node, A, "a failing node with room beats a full one");
  assert.equal(chooseNode([node(A, { failureScore: FAILURE_DEMOTION_SCORE - 0.01, free: 5 }), node(B, { free: 4 })])?.node, A, "below the threshold failures only break ties");
  assert.deepEqual(order([node(A, { free: 0, failureScore: 2 }), node(B, { free: 0 }), node(C, { failureScore: 2 })]), [C, B, A]);
  // Full nodes: the least overloaded queues the job, failures or not (they only break ties).
  assert.equal(chooseNode([node(A, { free: -5 }), node(B, { free: -1, failureScore: 3 })])?.node, B);
});

test("chooseNode: draining, excluded and (with bondedOnly) unbonded nodes are never chosen", () => {
  const cs = [node(A, { draining: true, free: 100 }), node(B, { bonded: true, free: 1 }), node(C, { free: 8 })];
  assert.equal(chooseNode(cs)?.node, C);
  assert.equal(chooseNode(cs, { bondedOnly: true })?.node, B);
  assert.equal(chooseNode(cs, { exclude: [C.toUpperCase().replace("0X", "0x") as Address] })?.node, B, "exclusion ignores address case");
  assert.equal(chooseNode(cs, { exclude: new Set([B]), bondedOnly: true }), undefined);
  assert.equal(chooseNode([]), undefined);
  assert.deepEqual(order(cs, { exclude: [C] }), [B]);
});

test("chooseNode is deterministic: any input order gives the same choice", () => {
  const cs = [node(A, { free: 3, tokensPerSecond: 50 }), node(B, { free: 3, tokensPerSecond: 50 }), node(C, { free: 3, tokensPerSecond: 50, failureScore: 0.2 })];
  for (const perm of [[0, 1, 2], [2, 1, 0], [1, 2, 0], [2, 0, 1]]) {
    assert.equal(chooseNode(perm.map((i) => cs[i]!))?.node, A);
    assert.deepEqual(order(perm.map((i) => cs[i]!)), [A, B, C]);
  }
});

test("failures decay by half-life and accumulate", () => {
  const once = addFailure(NO_FAILURES, 1_000, 60_000);
  assert.equal(decayFailures(once, 1_000, 60_000), 1);
  assert.ok(Math.abs(decayFailures(once, 61_000, 60_000) - 0.5) < 1e-12);
  const twice = addFailure(once, 61_000, 60_000);
  assert.ok(Math.abs(twice.score - 1.5) < 1e-12);
  assert.equal(decayFailures(NO_FAILURES, 10 ** 12, 60_000), 0);
  assert.equal(decayFailures(once, 0, 60_000), 1, "a clock going back does not inflate the score");
});

test("speed: decode tokens/s after the first token, EWMA seeded by the first measurement", () => {
  assert.equal(decodeSpeed(11, 100, 1100), 10);
  assert.equal(decodeSpeed(1, 100, 1100), undefined);
  assert.equal(decodeSpeed(5, 100, 100), undefined);
  assert.equal(ewma(undefined, 50, 0.3), 50);
  assert.equal(ewma(100, 50, 0.5), 75);
});

test("job error codes: bad requests and draining are not the node's fault", () => {
  assert.equal(isNodeFault("internal_error"), true);
  assert.equal(isNodeFault("model_not_found"), true);
  assert.equal(isNodeFault("invalid_request"), false);
  assert.equal(isNodeFault("context_length_exceeded"), false);
  assert.equal(isNodeFault("node_draining"), false);
});

test("registry model id: left-aligned bytes32, undefined when longer than 32 bytes", () => {
  assert.equal(registryModelId("ab"), `0x6162${"0".repeat(60)}`);
  assert.equal(registryModelId("x".repeat(33)), undefined);
});

const NONCE = `0x${"cd".repeat(32)}` as const;
async function signedHello(over: Partial<HelloFrame> = {}, issuedAt = 1_000_000, signer = privateKeyToAccount(generatePrivateKey())) {
  const auth = await signNodeAuth(signer, { gatewayId: "gw", nonce: NONCE }, 31337, issuedAt);
  const hello: HelloFrame = {
    type: "hello",
    protocol: 1,
    node: signer.address,
    nodeVersion: "t",
    provider: "cpu",
    models: [{ id: "m1", contextLength: 128, manifestSha256: "aa" }, { id: "m2", contextLength: 64, manifestSha256: "bb" }],
    capacity: { maxConcurrent: 4 },
    speed: { tokensPerSecond: 10 },
    auth,
    ...over,
  };
  return hello;
}

test("verifyHello: the node key signed this challenge recently; anything else is refused", async () => {
  const challenge = { nonce: NONCE, gatewayId: "gw", chainId: 31337 };
  const hello = await signedHello();
  assert.deepEqual(await verifyHello(hello, challenge, 1_030_000, 60_000), { ok: true });
  const stale = await verifyHello(hello, challenge, 1_061_000, 60_000);
  assert.ok(!stale.ok && stale.code === "bad_auth");
  const future = await verifyHello(hello, challenge, 990_000, 60_000);
  assert.ok(!future.ok && future.code === "bad_auth");
  for (const other of [{ ...challenge, nonce: `0x${"ce".repeat(32)}` as const }, { ...challenge, gatewayId: "gw2" }, { ...challenge, chainId: 1 }]) {
    const v = await verifyHello(hello, other, 1_000_000, 60_000);
    assert.ok(!v.ok && v.code === "bad_auth", "a signature over another challenge recovers another address");
  }
  const impostor = await verifyHello({ ...hello, node: A }, challenge, 1_000_000, 60_000);
  assert.ok(!impostor.ok && impostor.code === "bad_auth");
  const garbage = await verifyHello({ ...hello, auth: { issuedAt: 1_000_000, signature: "0x1234" } }, challenge, 1_000_000, 60_000);
  assert.ok(!garbage.ok && garbage.code === "bad_auth");
  const v2 = await verifyHello({ ...hello, protocol: 2 }, challenge, 1_000_000, 60_000);
  assert.ok(!v2.ok && v2.code === "protocol");
});

test("advertisedModels: each id once; with pinned manifests only the approved builds", async () => {
  const hello = await signedHello();
  assert.deepEqual(advertisedModels([...hello.models, hello.models[0]!], undefined), ["m1", "m2"]);
  assert.deepEqual(advertisedModels(hello.models, { m1: "aa", m2: "other" }), ["m1"]);
  assert.deepEqual(advertisedModels(hello.models, {}), []);
});

test("readNodeFrame validates every field the gateway reads", () => {
  const token = { type: "token", jobId: "j", index: 0, tokenId: 5, text: "a", logprob: -0.1, top: [{ tokenId: 5, text: "a", logprob: -0.1 }] };
  assert.deepEqual(readNodeFrame(JSON.stringify(token)), token);
  assert.throws(() => readNodeFrame(JSON.stringify({ ...token, text: 3 })), /token.text/);
  assert.throws(() => readNodeFrame(JSON.stringify({ ...token, top: [{ tokenId: -1, text: "", logprob: 0 }] })), /tokenId/);
  assert.throws(() => readNodeFrame(JSON.stringify({ type: "status", activeJobs: 0, queuedJobs: 0, capacity: 0, tokensPerSecond: 1, draining: false })), /capacity/);
  assert.throws(() => readNodeFrame(JSON.stringify({ type: "hello", node: A, protocol: 1, models: [{ id: "m" }] })), /contextLength/);
  assert.throws(() => readNodeFrame(JSON.stringify({ type: "result", jobId: "j", result: {}, receipt: {} })), /receipt/);
  assert.throws(() => readNodeFrame("[]"), /JSON object/);
  assert.deepEqual(readNodeFrame(JSON.stringify({ type: "leaving", reason: 1 })), { type: "leaving", reason: "", inFlight: 0 });
});

test("JobChannel: events in order, nothing after the first result or failure", async () => {
  const ch = new JobChannel();
  const tok = (index: number): StreamedToken => ({ index, tokenId: index, text: "", logprob: 0, top: [] });
  ch.push({ type: "token", token: tok(0) });
  const pending = [ch.next(), ch.next()];
  ch.push({ type: "failed", failure: { code: "x", message: "", nodeFault: true } });
  ch.push({ type: "token", token: tok(1) });
  ch.push({ type: "failed", failure: { code: "y", message: "", nodeFault: true } });
  const [first, second] = await Promise.all(pending);
  assert.equal(first?.type, "token");
  assert.ok(second?.type === "failed" && second.failure.code === "x");
  assert.equal(ch.isEnded, true);
});

test("checkResult: accepts exactly what was streamed and signed; refuses any mismatch", async () => {
  const key = privateKeyToAccount(generatePrivateKey());
  const out = [7, 8, 9];
  const logprobs = [-0.5, -1.25, -0.125];
  const streamed: StreamedToken[] = out.map((tokenId, index) => ({ index, tokenId, text: String(tokenId), logprob: logprobs[index]!, top: [] }));
  const timings = { startedAt: 1_700_000_000_000, firstTokenMs: 5, totalMs: 20 };
  const result: InferenceResult = {
    requestId: "r1", model: "m1", text: "789", finishReason: "length", promptTokenIds: [1, 2], outputTokenIds: out,
    logprobs: streamed.map((t) => ({ tokenId: t.tokenId, text: t.text, logprob: t.logprob, top: [] })),
    usage: { promptTokens: 2, completionTokens: 3 }, seed: 1, timings,
  };
  const fields = { requestId: "r1", modelId: "m1", promptHash: hashTokenIds([1, 2]), outputHash: hashTokenIds(out), logprobsHash: hashLogprobs(logprobs), promptTokens: 2, outputTokens: 3, ...timings };
  const receipt = await signReceipt(key, fields, 31337);
  // With verifyReceipt and with a pool's long-lived ReceiptVerifier (whose cache each check warms).
  for (const verifier of [undefined, new ReceiptVerifier()]) {
    const expected = { jobId: "r1", model: "m1", node: key.address, chainId: 31337, streamed, verifier };
    assert.equal(await checkResult(result, receipt, expected), undefined);
    assert.match((await checkResult(result, receipt, { ...expected, node: A })) ?? "", /invalid receipt/);
    assert.match((await checkResult(result, receipt, { ...expected, chainId: 1 })) ?? "", /invalid receipt/);
    assert.match((await checkResult(result, receipt, { ...expected, jobId: "r2" })) ?? "", /request/);
    assert.match((await checkResult(result, receipt, { ...expected, streamed: streamed.slice(0, 2) })) ?? "", /streamed/);
    assert.match((await checkResult({ ...result, outputTokenIds: [7, 8, 10] }, receipt, expected)) ?? "", /streamed/);
    assert.match((await checkResult({ ...result, timings: { ...timings, totalMs: 1 } }, receipt, expected)) ?? "", /timings/);
    const forged = { ...receipt, receipt: { ...receipt.receipt, outputTokens: 2 } };
    assert.match((await checkResult(result, forged, expected)) ?? "", /invalid receipt/);
    const lying = await signReceipt(key, { ...fields, logprobsHash: hashLogprobs([0, 0, 0]) }, 31337);
    assert.match((await checkResult(result, lying, expected)) ?? "", /logprobsHash/);
  }
});
