/**
 * The oracle's gateway reader against the gateway's own route (addEpochRoutes) over a real PGlite
 * store holding node-signed receipts, served on 127.0.0.1. Faults are real too: a closed port, a
 * server that never answers, a proxy that answers 503 or tampers with a page.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { getAddress, type Address, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { ApiError } from "../../gateway/src/api/errors.ts";
import { addEpochRoutes } from "../../gateway/src/api/epochs.ts";
import { openStore, type CompletionReceipt, type ReceiptStore } from "../../gateway/src/store/index.ts";
import { grantIdOf } from "../../sdk/src/apiKey.ts";
import { hashLogprobs, hashTokenIds, signReceipt } from "../../sdk/src/receipt.ts";
import type { SpendGrant } from "../../sdk/src/typedData.ts";
import {
  fetchAllReceipts,
  fetchAllUsage,
  fetchEpochReceipts,
  fetchEpochUsage,
  GatewayDataError,
  GatewayUnavailable,
  type GatewayProgress,
} from "../src/sources/gateway.ts";

const CHAIN_ID = 31337;
const EPOCH = 5;
const NODE_KEY = privateKeyToAccount("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d");
const addr = (n: number): Address => getAddress(`0x${n.toString(16).padStart(40, "0")}`);
const hash = (n: number): Hex => `0x${n.toString(16).padStart(64, "0")}`;
// Receipts with i % 3 == 0 are charged under this grant, whose signed form the gateway keeps.
const GRANT: SpendGrant = { account: addr(0xacc), gateway: addr(0x9a7e), asset: addr(0xa11), cap: 10n ** 40n, expiry: 2_000_000_000n, nonce: 1n };
const GRANT_SIGNATURE: Hex = `0x${"ab".repeat(32)}${"11".repeat(32)}1b`;
const FAST = { retries: 2, backoffMs: 10, timeoutMs: 1_000 };

let dataDir: string;
let store: ReceiptStore;
let open: { url: string; server: Server };
let guarded: { url: string; server: Server };
const inserted: CompletionReceipt[] = [];
const servers: Server[] = [];

async function receipt(i: number, epoch: number): Promise<CompletionReceipt> {
  const requestId = `req-${epoch}-${String(i).padStart(3, "0")}`;
  const signed = i % 4 === 3 ? null : await signReceipt(NODE_KEY, {
    requestId,
    modelId: "pod-gpt2-tiny",
    promptHash: hashTokenIds([1, 2, i]),
    outputHash: hashTokenIds([3, i]),
    logprobsHash: hashLogprobs([-0.5, -1.25]),
    promptTokens: 3,
    outputTokens: 2 + i,
    startedAt: 1_760_000_000_000 + i,
    firstTokenMs: 5,
    totalMs: 40,
  }, CHAIN_ID);
  return {
    requestId,
    epoch,
    model: "pod-gpt2-tiny",
    nodeAddress: NODE_KEY.address,
    nodeAccount: addr(0x0de),
    grantId: i % 3 === 0 ? grantIdOf(GRANT) : hash(i % 3),
    account: addr(0xacc),
    asset: addr(0xa11),
    inputPricePerMTok: 150_000n,
    outputPricePerMTok: 600_000n,
    promptTokens: 3,
    completionTokens: 2 + i,
    charged: 10n ** 30n + BigInt(i), // past 2^53: must survive JSON as a decimal string
    status: signed === null ? "partial" : "complete",
    timings: { receivedAt: 1_760_000_000_000 + i, firstTokenMs: 7, totalMs: 41 },
    signedReceipt: signed,
  };
}

async function listen(app: Hono): Promise<{ url: string; server: Server }> {
  const server = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, () => resolve(s as Server)) as Server;
  });
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

function gatewayApp(token: string | undefined): Hono {
  const app = new Hono();
  addEpochRoutes(app, store, token);
  // The gateway's own error mapping, as app.ts does it.
  app.onError((error, c) => (error instanceof ApiError ? c.json(error.body, error.status) : c.json({ error: { message: "internal" } }, 500)));
  return app;
}

/** A server in front of the real route that can fail or rewrite answers. */
function proxy(upstream: Hono, rewrite: (path: string, n: number, body: Record<string, unknown>) => Response | Record<string, unknown>): Hono {
  const app = new Hono();
  let n = 0;
  app.get("*", async (c) => {
    const path = c.req.url.slice(c.req.url.indexOf("/v1"));
    const res = await upstream.request(path);
    const out = rewrite(path, n++, (await res.json()) as Record<string, unknown>);
    return out instanceof Response ? out : c.json(out);
  });
  return app;
}

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "pod-oracle-src-"));
  store = await openStore({ dataDir, syncCommits: false });
  for (let i = 0; i < 23; i++) inserted.push(await receipt(i, EPOCH));
  for (const r of inserted) await store.insert(r);
  await store.rememberGrant({ grant: GRANT, signature: GRANT_SIGNATURE });
  for (let i = 0; i < 3; i++) await store.insert(await receipt(i, EPOCH + 1));
  open = await listen(gatewayApp(undefined));
  guarded = await listen(gatewayApp("oracle-secret"));
});

after(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
  await store?.close();
  await rm(dataDir, { recursive: true, force: true });
});

test("follows next cursors across 5 pages and returns every receipt as the gateway stored it", async () => {
  const progress: GatewayProgress[] = [];
  const got = await fetchEpochReceipts({ url: open.url }, EPOCH, { pageSize: 5, onProgress: (p) => progress.push(p) });
  assert.equal(got.length, 23);
  assert.deepEqual(progress.map((p) => [p.pages, p.receipts, p.done]), [[1, 5, false], [2, 10, false], [3, 15, false], [4, 20, false], [5, 23, true]]);
  for (const [i, r] of got.entries()) {
    const { timings: _timings, ...expected } = inserted[i]!;
    assert.deepEqual(r, expected);
  }
  assert.equal(got[7]!.charged, 10n ** 30n + 7n);
  assert.equal(got[3]!.signedReceipt, null);
  // Another epoch is separate; an empty epoch is one empty page.
  assert.equal((await fetchEpochReceipts({ url: `${open.url}/v1/` }, EPOCH + 1, { pageSize: 2 })).length, 3);
  assert.deepEqual(await fetchEpochReceipts({ url: open.url }, 99), []);
});

test("a gateway with a receipts token refuses a missing or wrong token at once (GatewayDataError on field token) and serves the right one", async () => {
  for (const token of [undefined, "wrong"]) {
    const started = Date.now();
    await assert.rejects(fetchEpochReceipts({ url: guarded.url, ...(token === undefined ? {} : { token }) }, EPOCH, { retries: 5, backoffMs: 1_000 }), (error: unknown) => {
      assert.ok(error instanceof GatewayDataError);
      assert.deepEqual([error.gateway, error.field, error.status], [guarded.url, "token", 401]);
      return true;
    });
    assert.ok(Date.now() - started < 900, "a refusal is not retried");
  }
  assert.equal((await fetchEpochReceipts({ url: guarded.url, token: "oracle-secret" }, EPOCH, { pageSize: 10 })).length, 23);
});

test("a gateway that is down (closed port) gives GatewayUnavailable after its retries, within a bounded time", async () => {
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
  const url = `http://127.0.0.1:${port}`;
  const started = Date.now();
  await assert.rejects(fetchEpochReceipts({ url }, EPOCH, { retries: 3, backoffMs: 20 }), (error: unknown) => {
    assert.ok(error instanceof GatewayUnavailable);
    assert.deepEqual([error.gateway, error.epoch, error.attempts], [url, EPOCH, 4]);
    assert.match(error.lastFailure, /ECONNREFUSED/);
    return true;
  });
  // Backoff 20 + 40 + 80 ms, and refused connections fail at once.
  assert.ok(Date.now() - started < 1_500, `took ${Date.now() - started} ms`);

  // All gateways must answer: one down fails the whole fetch.
  await assert.rejects(fetchAllReceipts([{ url: open.url }, { url }], EPOCH, FAST), GatewayUnavailable);
});

test("a gateway that accepts but never answers times out per attempt, then GatewayUnavailable", async () => {
  const silent = new Hono();
  silent.get("*", () => new Promise<Response>(() => undefined));
  const { url } = await listen(silent);
  const started = Date.now();
  await assert.rejects(fetchEpochReceipts({ url }, EPOCH, { retries: 1, backoffMs: 10, timeoutMs: 200 }), (error: unknown) => {
    assert.ok(error instanceof GatewayUnavailable);
    assert.equal(error.attempts, 2);
    assert.match(error.lastFailure, /timeout|aborted/i);
    return true;
  });
  const took = Date.now() - started;
  assert.ok(took >= 400 && took < 1_500, `took ${took} ms`);
});

test("5xx and 429 are retried and the fetch resumes at the failed page", async () => {
  const seen: string[] = [];
  const flaky = proxy(gatewayApp(undefined), (path, n, body) => {
    seen.push(path);
    if (n === 1) return new Response("busy", { status: 503 });
    if (n === 2) return new Response("slow down", { status: 429 });
    return body;
  });
  const { url } = await listen(flaky);
  const got = await fetchEpochReceipts({ url }, EPOCH, { pageSize: 10, ...FAST });
  assert.deepEqual(got.map((r) => r.requestId), inserted.map((r) => r.requestId));
  // Page 2 asked three times, with the same cursor; page 1 once.
  assert.equal(seen.length, 5);
  assert.equal(seen[1], seen[2]);
  assert.equal(seen[2], seen[3]);
  assert.notEqual(seen[0], seen[1]);
});

test("two gateways: receipts concatenated in the order of the list", async () => {
  const got = await fetchAllReceipts([{ url: open.url }, { url: guarded.url, token: "oracle-secret" }], EPOCH, { pageSize: 7 });
  assert.equal(got.length, 46);
  assert.deepEqual(got.slice(23).map((r) => r.requestId), inserted.map((r) => r.requestId));
});

test("a malformed page is a GatewayDataError naming the gateway and the field, never retried", async () => {
  const cases: [string, (body: Record<string, unknown>) => void, string][] = [
    ["negative amount", (b) => ((b.data as Record<string, unknown>[])[2]!.charged = "-5"), "data[2].charged"],
    ["amount as a JSON number", (b) => ((b.data as Record<string, unknown>[])[0]!.charged = 5), "data[0].charged"],
    ["bad node address", (b) => ((b.data as Record<string, unknown>[])[1]!.nodeAddress = "0x1234"), "data[1].nodeAddress"],
    // A bad signature is not malformed data: the pipeline drops that receipt (bad_signature).
    ["signed receipt without its fields", (b) => ((b.data as Record<string, unknown>[])[0]!.signedReceipt = { chainId: CHAIN_ID, signature: "0x00" }), "data[0].signedReceipt"],
    ["page of another epoch", (b) => (b.epoch = EPOCH + 1), "data[0].epoch"],
    ["cursor that does not move", (b) => (b.next = new URL(`http://x${String(b.__path)}`).searchParams.get("after") ?? b.next), "next"],
  ];
  for (const [what, tamper, field] of cases) {
    let requests = 0;
    const bad = proxy(gatewayApp(undefined), (path, n, body) => {
      requests += 1;
      // Tamper with the second page, so the reader has already followed a cursor.
      if (n === 1) {
        body.__path = path;
        tamper(body);
      }
      return body;
    });
    const { url } = await listen(bad);
    await assert.rejects(fetchEpochReceipts({ url }, EPOCH, { pageSize: 5, ...FAST }), (error: unknown) => {
      assert.ok(error instanceof GatewayDataError, `${what}: ${String(error)}`);
      assert.equal(error.gateway, url);
      assert.equal(error.field, field, what);
      assert.match(error.message, /page after \d+/, what);
      return true;
    });
    assert.equal(requests, 2, `${what}: asked once per page, no retry`);
  }
  const notJson = new Hono();
  notJson.get("*", (c) => c.body("<html>", 200));
  const { url } = await listen(notJson);
  await assert.rejects(fetchEpochReceipts({ url }, EPOCH, FAST), (error: unknown) => error instanceof GatewayDataError && error.field === "body");
  // A 400 names the gateway's own `param`.
  await assert.rejects(fetchEpochReceipts({ url: open.url }, EPOCH, { pageSize: 20_000 }), (error: unknown) => error instanceof GatewayDataError && error.field === "limit" && error.status === 400);
});

test("usage through an epoch: the signed grant with its cumulative charge, grants without one apart", async () => {
  const usage = await fetchEpochUsage({ url: guarded.url, token: "oracle-secret" }, EPOCH, FAST);
  const charged = inserted.filter((_, i) => i % 3 === 0).reduce((sum, r) => sum + r.charged, 0n);
  assert.deepEqual(usage, { epoch: EPOCH, data: [{ grantId: grantIdOf(GRANT), grant: GRANT, signature: GRANT_SIGNATURE, cumulative: charged }], unsettleable: [hash(1), hash(2)] });
  // Cumulative: epoch 6 adds its own charges under the grant (receipt 0 of epoch 6).
  const next = await fetchEpochUsage({ url: open.url }, EPOCH + 1, FAST);
  assert.equal(next.data[0]!.cumulative, charged + 10n ** 30n);
  const both = await fetchAllUsage([{ url: open.url }, { url: guarded.url, token: "oracle-secret" }], EPOCH, FAST);
  assert.deepEqual(both.map((u) => u.gateway), [open.url, guarded.url]);
  assert.deepEqual(both[1]!.usage, usage);
  await assert.rejects(fetchEpochUsage({ url: guarded.url }, EPOCH, FAST), (error: unknown) => error instanceof GatewayDataError && error.field === "token");

  const tampered = proxy(gatewayApp(undefined), (_path, _n, body) => {
    ((body.data as Record<string, unknown>[])[0]!.grant as Record<string, unknown>).cap = "1";
    return body;
  });
  const { url } = await listen(tampered);
  await assert.rejects(fetchEpochUsage({ url }, EPOCH, FAST), (error: unknown) => {
    assert.ok(error instanceof GatewayDataError);
    assert.equal(error.field, "data[0].grantId"); // no longer the grant's struct hash
    return true;
  });
});
