/**
 * Users' flags end to end: a gateway sampling about half of the requests, a real worker node,
 * the paying account flags its responses (sampled or not) with its API key, another account
 * cannot, and GET /v1/flags serves each flag in order with its pair for validators: the sampled
 * pair, or for an unsampled response the pair kept in the recent-responses buffer. A gateway that
 * samples nothing with a buffer of two: the oldest pair is evicted, a flag after that is recorded
 * with pair_expired, and the validator service judges the flagged unsampled response first.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import OpenAI from "openai";
import { getAddress } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { parseEpochSamplesPage } from "../../sdk/src/epochData.ts";
import { loadTiny, TINY } from "../../node/test/fixtures.ts";
import { CalibrationTable } from "../../oracle-workers/src/validate/calibration.ts";
import { FileCursor } from "../../oracle-workers/src/validate/cursor.ts";
import { Recomputer } from "../../oracle-workers/src/validate/recompute.ts";
import { chainSpeedBounds } from "../../oracle-workers/src/validate/reporter.ts";
import { ValidatorService, type SampleSource } from "../../oracle-workers/src/validate/service.ts";
import { fetchFlaggedSamples, fetchSamples, gatewaySource } from "../../oracle-workers/src/validate/source.ts";
import { RecentResponses } from "../src/store/index.ts";
import type { ValidatorSample } from "../src/store/index.ts";
import { startGateway, until, USD, type TestGateway } from "./fixtures.ts";

let gw: TestGateway;
let aliceKey: string;
let bobKey: string;
let sampled: string;
let unsampled: string;
let unsampledIndex: number;

before(async () => {
  gw = await startGateway({ sampling: { salt: "flags-sampling-salt-for-the-test", ratePpm: 500_000 } });
  await gw.deposit(gw.core.alice, 100n * USD);
  aliceKey = (await gw.apiKey(gw.core.alice)).key;
  bobKey = (await gw.apiKey(gw.core.bob)).key;
  const client = new OpenAI({ apiKey: aliceKey, baseURL: gw.baseURL, maxRetries: 0, timeout: 20_000 });
  await gw.startNode();
  await until("the node in the pool", () => gw.pool.models().length === 1);
  const ids: { id: string; sampled: boolean }[] = [];
  // Half are sampled; the keyed hash decides, so ask until both kinds exist (bounded).
  for (let i = 0; i < 20 && !(ids.some((x) => x.sampled) && ids.some((x) => !x.sampled)); i++) {
    const r = await client.completions.create({ model: TINY, prompt: `Flag me ${i}`, max_tokens: 3, seed: i });
    ids.push({ id: r.id, sampled: (await gw.store.sampleOf(r.id)) !== null });
  }
  sampled = ids.find((x) => x.sampled)!.id;
  unsampledIndex = ids.findIndex((x) => !x.sampled);
  unsampled = ids[unsampledIndex]!.id;
});

after(async () => {
  await gw?.close();
});

async function postFlag(key: string | undefined, body: unknown, baseURL = gw.baseURL): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${baseURL}/flags`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(key === undefined ? {} : { authorization: `Bearer ${key}` }) },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

test("the paying account flags its responses once each; another account, an unknown id or a bad body cannot", async () => {
  const kept = { object: "flag", created: true, sampled: true, pair_expired: false };
  assert.deepEqual(await postFlag(aliceKey, { request_id: sampled, reason: "the answer looks canned" }), { status: 201, body: { ...kept, request_id: sampled } });
  assert.deepEqual((await postFlag(aliceKey, { request_id: sampled, reason: "again" })).body.created, false, "a second flag changes nothing");
  assert.equal(await gw.store.sampleOf(unsampled), null, "not sampled: its pair is only in memory");
  // Not sampled, but still buffered: its pair is stored with the flag.
  assert.deepEqual(await postFlag(aliceKey, { request_id: unsampled }), { status: 201, body: { ...kept, request_id: unsampled } });
  assert.notEqual(await gw.store.sampleOf(unsampled), null);
  assert.deepEqual((await postFlag(aliceKey, { request_id: unsampled })).body, { ...kept, request_id: unsampled, created: false });
  // Bob did not pay for Alice's request: indistinguishable from an unknown id.
  const notHis = await postFlag(bobKey, { request_id: sampled });
  assert.deepEqual([notHis.status, (notHis.body.error as { code: string }).code], [404, "request_not_found"]);
  assert.equal((await postFlag(aliceKey, { request_id: "cmpl-unknown" })).status, 404);
  assert.equal((await postFlag(aliceKey, { request_id: 7 })).status, 400);
  assert.equal((await postFlag(aliceKey, { request_id: sampled, reason: "x".repeat(2_001) })).status, 400);
  assert.equal((await postFlag(undefined, { request_id: sampled })).status, 401);
});

test("GET /v1/flags serves the flags in order, each with its pair and signed receipt, and a cursor to resume", async () => {
  const res = await fetch(`${gw.baseURL}/flags?limit=10`);
  assert.equal(res.status, 200);
  const body = (await res.json()) as { data: { request_id: string; account: string; reason: string; sample: unknown; pair_expired: boolean }[]; next: string | null };
  assert.deepEqual(body.data.map((f) => [f.request_id, f.reason, f.pair_expired]), [[sampled, "the answer looks canned", false], [unsampled, "", false]]);
  assert.equal(body.data[0]!.account.toLowerCase(), gw.core.alice.account.address.toLowerCase());
  // The pairs are the /v1/samples shape, so a validator parses and checks them the same way.
  const pairs = parseEpochSamplesPage({ data: body.data.map((f) => f.sample), next: null }).data;
  assert.deepEqual(pairs.map((p) => p.requestId), [sampled, unsampled]);
  for (const pair of pairs) assert.notEqual(pair.receipt.signedReceipt, null);
  // The buffered pair is the one a sample would have been: the request with the node's seed, its tokens and logprobs.
  const unsampledPair = pairs[1]!;
  assert.equal(unsampledPair.request.prompt, "Flag me " + unsampledIndex);
  assert.equal(unsampledPair.request.params.seed, unsampledIndex);
  assert.equal(unsampledPair.outputTokenIds.length, unsampledPair.logprobs.chosen.length);
  assert.equal(unsampledPair.receipt.signedReceipt!.receipt.outputTokens, unsampledPair.outputTokenIds.length);
  assert.match(body.next ?? "", /^\d+$/);
  const later = (await (await fetch(`${gw.baseURL}/flags?after=${body.next}`)).json()) as { data: unknown[]; next: string | null };
  assert.deepEqual(later, { object: "list", data: [], next: body.next });
  const paged = (await (await fetch(`${gw.baseURL}/flags?limit=1`)).json()) as { data: { request_id: string }[]; next: string };
  assert.deepEqual(paged.data.map((f) => f.request_id), [sampled]);
  assert.equal((await fetch(`${gw.baseURL}/flags?limit=0`)).status, 400);
});

test("the buffer keeps the last maxEntries pairs and none older than maxAgeMs, evicting the oldest first", () => {
  let now = 0;
  const recent = new RecentResponses({ maxEntries: 3, maxAgeMs: 1_000 }, () => now);
  const built: string[] = [];
  const pair = (id: string) => () => (built.push(id), { requestId: id } as ValidatorSample);
  for (const id of ["a", "b", "c", "d"]) {
    recent.add(id, pair(id));
    now += 100;
  }
  assert.equal(recent.size, 3);
  assert.equal(recent.pairOf("a"), undefined, "the oldest went first");
  assert.deepEqual(built, [], "pairs are built only when asked for");
  assert.equal(recent.pairOf("b")?.requestId, "b");
  now = 1_250; // b (100) and c (200) are now older than a second; d (300) is not
  assert.equal(recent.pairOf("c"), undefined);
  assert.equal(recent.pairOf("d")?.requestId, "d");
  assert.equal(recent.size, 1);
  recent.delete("d");
  assert.equal(recent.size, 0);
  const none = new RecentResponses({ maxEntries: 0, maxAgeMs: 1_000 });
  none.add("x", pair("x"));
  assert.equal(none.size, 0);
  assert.throws(() => new RecentResponses({ maxEntries: -1, maxAgeMs: 0 }), RangeError);
});

test("sampling off, a buffer of two: a flagged unsampled response is served with its pair and validated first; a flag after eviction is recorded with pair_expired", async () => {
  const unsampledGw = await startGateway({ recentResponses: { maxEntries: 2, maxAgeMs: 60_000 } });
  const dir = await mkdtemp(join(tmpdir(), "pod-flags-validator-"));
  try {
    await unsampledGw.deposit(unsampledGw.core.alice, 100n * USD);
    const key = (await unsampledGw.apiKey(unsampledGw.core.alice)).key;
    const client = new OpenAI({ apiKey: key, baseURL: unsampledGw.baseURL, maxRetries: 0, timeout: 20_000 });
    await unsampledGw.startNode();
    await until("the node in the pool", () => unsampledGw.pool.models().length === 1);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await client.completions.create({ model: TINY, prompt: `Unsampled ${i}`, max_tokens: 4, seed: i, logprobs: 2 })).id);
    const [evicted, , newest] = ids as [string, string, string];
    for (const id of ids) assert.equal(await unsampledGw.store.sampleOf(id), null, "nothing is sampled");

    assert.deepEqual(await postFlag(key, { request_id: newest, reason: "wrong" }, unsampledGw.baseURL), { status: 201, body: { object: "flag", request_id: newest, created: true, sampled: true, pair_expired: false } });
    // The third response pushed the first out of the buffer: the flag is kept, without a pair.
    assert.deepEqual(await postFlag(key, { request_id: evicted, reason: "too late" }, unsampledGw.baseURL), { status: 201, body: { object: "flag", request_id: evicted, created: true, sampled: false, pair_expired: true } });
    const feed = (await (await fetch(`${unsampledGw.baseURL}/flags`)).json()) as { data: { request_id: string; reason: string; sample: { requestId: string } | null; pair_expired: boolean }[] };
    assert.deepEqual(feed.data.map((f) => [f.request_id, f.reason, f.sample?.requestId ?? null, f.pair_expired]), [[newest, "wrong", newest, false], [evicted, "too late", null, true]]);

    // The validator reads the flags first and judges the flagged response once, though the samples feed serves it too.
    const model = await loadTiny();
    const recomputer = await Recomputer.load({ modelId: TINY, folder: model.folder, manifestSha256: model.manifestSha256 }, { provider: "cpu", intraOpThreads: 1 });
    const fetched: string[] = [];
    const tracked = (name: string, source: SampleSource): SampleSource => ({ fetch: (after, limit, signal) => (fetched.push(name), source.fetch(after, limit, signal)) });
    const gateway = { url: unsampledGw.baseURL.replace(/\/v1$/, "") };
    const service = new ValidatorService({
      source: tracked("samples", gatewaySource(gateway, fetchSamples)),
      cursor: new FileCursor(dir),
      flags: tracked("flags", gatewaySource(gateway, fetchFlaggedSamples)),
      flagsCursor: new FileCursor(dir, "flags-cursor.json"),
      models: new Map([[TINY, { recomputer, tokenizer: model.tokenizer, eosTokenId: model.manifest.eosTokenId, chatFormat: model.manifest.chatFormat }]]),
      calibration: new CalibrationTable(),
      speedBounds: chainSpeedBounds(unsampledGw.core.publicClient, getAddress(unsampledGw.core.protocolParams.address)),
      dataDir: dir,
      validator: getAddress(privateKeyToAccount(generatePrivateKey()).address),
    });
    assert.equal(await service.drain(), 1, "the flagged pair, judged once");
    assert.equal(fetched[0], "flags");
    const { nodes, skipped } = service.status();
    assert.equal(skipped, 0);
    assert.deepEqual(nodes.map((n) => [n.samples, n.passes, n.flagged, n.convicted]), [[1, 1, 1, false]]);
  } finally {
    await unsampledGw.close();
    await rm(dir, { recursive: true, force: true });
  }
});
