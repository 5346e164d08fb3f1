/**
 * Users' flags end to end: a gateway sampling about half of the requests, a real worker node,
 * the paying account flags its responses (sampled or not) with its API key, another account
 * cannot, and GET /v1/flags serves each flag in order with its sampled pair for validators.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import OpenAI from "openai";
import { parseEpochSamplesPage } from "../../sdk/src/epochData.ts";
import { TINY } from "../../node/test/fixtures.ts";
import { startGateway, until, USD, type TestGateway } from "./fixtures.ts";

let gw: TestGateway;
let aliceKey: string;
let bobKey: string;
let sampled: string;
let unsampled: string;

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
  unsampled = ids.find((x) => !x.sampled)!.id;
});

after(async () => {
  await gw?.close();
});

async function postFlag(key: string | undefined, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${gw.baseURL}/flags`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(key === undefined ? {} : { authorization: `Bearer ${key}` }) },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

test("the paying account flags its responses once each; another account, an unknown id or a bad body cannot", async () => {
  assert.deepEqual(await postFlag(aliceKey, { request_id: sampled, reason: "the answer looks canned" }), { status: 201, body: { object: "flag", request_id: sampled, created: true, sampled: true } });
  assert.deepEqual((await postFlag(aliceKey, { request_id: sampled, reason: "again" })).body.created, false, "a second flag changes nothing");
  assert.deepEqual(await postFlag(aliceKey, { request_id: unsampled }), { status: 201, body: { object: "flag", request_id: unsampled, created: true, sampled: false } });
  // Bob did not pay for Alice's request: indistinguishable from an unknown id.
  const notHis = await postFlag(bobKey, { request_id: sampled });
  assert.deepEqual([notHis.status, (notHis.body.error as { code: string }).code], [404, "request_not_found"]);
  assert.equal((await postFlag(aliceKey, { request_id: "cmpl-unknown" })).status, 404);
  assert.equal((await postFlag(aliceKey, { request_id: 7 })).status, 400);
  assert.equal((await postFlag(aliceKey, { request_id: sampled, reason: "x".repeat(2_001) })).status, 400);
  assert.equal((await postFlag(undefined, { request_id: sampled })).status, 401);
});

test("GET /v1/flags serves the flags in order, the sampled one with its pair and signed receipt, and a cursor to resume", async () => {
  const res = await fetch(`${gw.baseURL}/flags?limit=10`);
  assert.equal(res.status, 200);
  const body = (await res.json()) as { data: { request_id: string; account: string; reason: string; sample: unknown }[]; next: string | null };
  assert.deepEqual(body.data.map((f) => [f.request_id, f.reason, f.sample === null]), [[sampled, "the answer looks canned", false], [unsampled, "", true]]);
  assert.equal(body.data[0]!.account.toLowerCase(), gw.core.alice.account.address.toLowerCase());
  // The pair is the /v1/samples shape, so a validator parses and checks it the same way.
  const [pair] = parseEpochSamplesPage({ data: [body.data[0]!.sample], next: null }).data;
  assert.equal(pair!.requestId, sampled);
  assert.notEqual(pair!.receipt.signedReceipt, null);
  assert.match(body.next ?? "", /^\d+$/);
  const later = (await (await fetch(`${gw.baseURL}/flags?after=${body.next}`)).json()) as { data: unknown[]; next: string | null };
  assert.deepEqual(later, { object: "list", data: [], next: body.next });
  const paged = (await (await fetch(`${gw.baseURL}/flags?limit=1`)).json()) as { data: { request_id: string }[]; next: string };
  assert.deepEqual(paged.data.map((f) => f.request_id), [sampled]);
  assert.equal((await fetch(`${gw.baseURL}/flags?limit=0`)).status, 400);
});
