import { test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";
import { parseNodeMessage, recoverNodeAuthSigner, type NodeMessage } from "../../sdk/src/nodeProtocol.ts";
import { parseSignedReceipt, verifyReceipt } from "../../sdk/src/receipt.ts";
import { GatewayClient } from "../src/gateway/client.ts";
import { TINY, tinyService } from "./fixtures.ts";

const NONCE = `0x${"ab".repeat(32)}` as const;

/** A minimal gateway: challenge on connect, records every node frame. */
async function fakeGateway() {
  const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await once(server, "listening");
  const messages: NodeMessage[] = [];
  const waiters: { match: (m: NodeMessage) => boolean; resolve: (m: NodeMessage) => void }[] = [];
  let socket: WebSocket | undefined;
  server.on("connection", (ws) => {
    socket = ws;
    ws.send(JSON.stringify({ type: "challenge", protocol: 1, nonce: NONCE, gatewayId: "gw-test", chainId: 31337 }));
    ws.on("message", (data) => {
      const message = parseNodeMessage(String(data));
      messages.push(message);
      for (const w of waiters.splice(0)) (w.match(message) ? w.resolve(message) : waiters.push(w));
    });
  });
  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`,
    messages,
    send: (frame: unknown) => socket!.send(JSON.stringify(frame)),
    next: (match: (m: NodeMessage) => boolean) => {
      const seen = messages.find(match);
      return seen !== undefined ? Promise.resolve(seen) : new Promise<NodeMessage>((resolve) => waiters.push({ match, resolve }));
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

test("serve: challenge-signature auth, status, streamed job with a signed receipt, cancel, drain and leave", async () => {
  const gateway = await fakeGateway();
  const { service } = await tinyService();
  const client = new GatewayClient(service, { url: gateway.url, nodeVersion: "test", calibratedTokensPerSecond: 123, statusIntervalMs: 60_000, reconnectMinMs: 50, reconnectMaxMs: 200 });
  client.start();

  const hello = await gateway.next((m) => m.type === "hello");
  assert.ok(hello.type === "hello");
  assert.equal(hello.node, service.account.address);
  assert.deepEqual(hello.models.map((m) => m.id), [TINY]);
  assert.equal(hello.speed.tokensPerSecond, 123);
  assert.equal(hello.capacity.maxConcurrent, 8);
  const signer = await recoverNodeAuthSigner({ gatewayId: "gw-test", nonce: NONCE, node: hello.node, issuedAt: hello.auth.issuedAt }, hello.auth.signature, 31337);
  assert.equal(signer, service.account.address, "hello is signed by the node key");

  gateway.send({ type: "welcome", sessionId: "s-1" });
  await gateway.next((m) => m.type === "status");
  assert.equal(client.state, "ready");

  gateway.send({ type: "job", jobId: "job-1", request: { model: TINY, prompt: "Gateway job", max_tokens: 5, temperature: 0 } });
  const result = await gateway.next((m) => m.type === "result" && m.jobId === "job-1");
  assert.ok(result.type === "result");
  const tokens = gateway.messages.filter((m) => m.type === "token" && m.jobId === "job-1");
  assert.equal(tokens.length, 5);
  assert.deepEqual(tokens.map((t) => (t.type === "token" ? t.index : -1)), [0, 1, 2, 3, 4]);
  assert.equal(result.result.requestId, "job-1");
  const receipt = parseSignedReceipt(result.receipt);
  assert.equal(receipt.receipt.requestId, "job-1");
  assert.equal((await verifyReceipt(receipt, { expectedSigner: hello.node, chainId: 31337 })).valid, true);

  gateway.send({ type: "job", jobId: "job-bad", request: { model: TINY, prompt: "", max_tokens: 5 } });
  const bad = await gateway.next((m) => m.type === "job_error" && m.jobId === "job-bad");
  assert.ok(bad.type === "job_error" && bad.code === "invalid_request");

  gateway.send({ type: "job", jobId: "job-cancel", request: { model: TINY, prompt: "Cancel me", max_tokens: 400, temperature: 0 } });
  await gateway.next((m) => m.type === "token" && m.jobId === "job-cancel");
  gateway.send({ type: "cancel", jobId: "job-cancel" });
  const cancelled = await gateway.next((m) => m.type === "job_error" && m.jobId === "job-cancel");
  assert.ok(cancelled.type === "job_error" && cancelled.code === "cancelled");

  // Drain while a job runs: the node says it is leaving, refuses new work, finishes, says bye.
  gateway.send({ type: "job", jobId: "job-last", request: { model: TINY, prompt: "Last one", max_tokens: 30, temperature: 0 } });
  await gateway.next((m) => m.type === "token" && m.jobId === "job-last");
  gateway.send({ type: "drain", reason: "test" });
  const leaving = await gateway.next((m) => m.type === "leaving");
  assert.ok(leaving.type === "leaving" && leaving.inFlight === 1);
  gateway.send({ type: "job", jobId: "job-refused", request: { model: TINY, prompt: "x", max_tokens: 1 } });
  const refused = await gateway.next((m) => m.type === "job_error" && m.jobId === "job-refused");
  assert.ok(refused.type === "job_error" && refused.code === "node_draining");
  await gateway.next((m) => m.type === "bye");
  const last = gateway.messages.find((m) => m.type === "result" && m.jobId === "job-last");
  assert.ok(last !== undefined, "the in-flight job finished before bye");
  assert.ok(gateway.messages.indexOf(last) < gateway.messages.findIndex((m) => m.type === "bye"));
  await client.leave("done");
  assert.equal(client.state, "closed");
  await gateway.close();
});

test("serve: reconnects after the gateway drops the connection", async () => {
  const gateway = await fakeGateway();
  const { service } = await tinyService();
  const client = new GatewayClient(service, { url: gateway.url, nodeVersion: "test", calibratedTokensPerSecond: 1, statusIntervalMs: 60_000, reconnectMinMs: 20, reconnectMaxMs: 100 });
  let hellos = 0;
  client.onStateChange = (state) => state === "authenticating" && hellos++;
  client.start();
  await gateway.next((m) => m.type === "hello");
  gateway.send({ type: "error", code: "test_kick", message: "not yet" });
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(client.state, "closed", "an explicit refusal stops the client");
  client.start();
  const second = gateway.messages.length;
  await gateway.next((m) => m.type === "hello" && gateway.messages.indexOf(m) >= second);
  assert.ok(hellos >= 2);
  await client.leave("done");
  await gateway.close();
});
