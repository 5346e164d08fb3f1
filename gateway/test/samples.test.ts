/**
 * GET /v1/samples end to end: the official `openai` client against a gateway sampling every
 * request (100%), a real worker node on the tiny model; a validator pages the samples, parses
 * them with the SDK and checks the node's signature on each receipt.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import OpenAI from "openai";
import { isAddressEqual } from "viem";
import { EpochDataError, parseEpochSamplesPage, type EpochSample } from "../../sdk/src/epochData.ts";
import { verifyReceipt } from "../../sdk/src/receipt.ts";
import { TINY } from "../../node/test/fixtures.ts";
import { createApp } from "../src/api/index.ts";
import { EPOCH, startGateway, until, USD, type TestGateway, type TestNode } from "./fixtures.ts";

let gw: TestGateway;
let node: TestNode;
let client: OpenAI;
/** What the client got back, by request id. */
const answers = new Map<string, { text: string; promptTokens: number; completionTokens: number; prompt?: string; messages?: { role: string; content: string }[] }>();

before(async () => {
  gw = await startGateway({ sampling: { salt: "validators-sampling-salt-for-tests", ratePpm: 1_000_000 } });
  await gw.deposit(gw.core.alice, 1_000n * USD);
  client = new OpenAI({ apiKey: (await gw.apiKey(gw.core.alice)).key, baseURL: gw.baseURL, maxRetries: 0, timeout: 20_000 });
  node = await gw.startNode();
  await until("the node in the pool", () => gw.pool.models().length === 1);
  for (let i = 0; i < 5; i++) {
    const prompt = `Sample number ${i}`;
    const r = await client.completions.create({ model: TINY, prompt, max_tokens: 3 + i, temperature: 0.8, logprobs: i % 3 });
    answers.set(r.id, { text: r.choices[0]!.text, promptTokens: r.usage!.prompt_tokens, completionTokens: r.usage!.completion_tokens, prompt });
  }
  for (let i = 0; i < 3; i++) {
    const messages = [{ role: "user" as const, content: `Chat sample ${i}` }];
    const r = await client.chat.completions.create({ model: TINY, messages, max_tokens: 4, seed: 40 + i, logprobs: true, top_logprobs: 2 });
    answers.set(r.id, { text: r.choices[0]!.message.content ?? "", promptTokens: r.usage!.prompt_tokens, completionTokens: r.usage!.completion_tokens, messages });
  }
  // A streamed answer is sampled too.
  const messages = [{ role: "user" as const, content: "Streamed sample" }];
  const stream = await client.chat.completions.create({ model: TINY, messages, max_tokens: 5, stream: true, stream_options: { include_usage: true } });
  let id = "";
  let text = "";
  let usage: OpenAI.CompletionUsage | undefined;
  for await (const chunk of stream) {
    id = chunk.id;
    text += chunk.choices[0]?.delta.content ?? "";
    usage = chunk.usage ?? usage;
  }
  answers.set(id, { text, promptTokens: usage!.prompt_tokens, completionTokens: usage!.completion_tokens, messages });
});

after(async () => {
  await gw?.close();
});

async function getPage(query: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${gw.baseURL}/samples${query}`);
  return { status: res.status, body: await res.json() };
}

/** Every sample through the endpoint, `limit` at a time, parsed as a validator does. */
async function allSamples(limit: number, epoch?: number): Promise<{ samples: EpochSample[]; pages: number }> {
  const samples: EpochSample[] = [];
  let cursor: string | null = null;
  let pages = 0;
  let full: boolean;
  do {
    const { status, body } = await getPage(`?limit=${limit}${cursor === null ? "" : `&after=${cursor}`}${epoch === undefined ? "" : `&epoch=${epoch}`}`);
    assert.equal(status, 200);
    assert.equal((body as { object: string }).object, "list");
    const page = parseEpochSamplesPage(body);
    assert.ok(page.data.length <= limit);
    samples.push(...page.data);
    // A partial page is the last one; its next cursor is its last seq.
    full = page.data.length === limit;
    if (page.data.length > 0) assert.notEqual(page.next, null);
    cursor = page.next;
    pages++;
  } while (full && cursor !== null);
  return { samples, pages };
}

test("every sampled request appears exactly once across pages, with token ids, logprobs and a node-signed receipt", async () => {
  const { samples, pages } = await allSamples(3);
  assert.equal(pages, 4); // 9 samples, 3 per page, then an empty page at the end
  assert.deepEqual(samples.map((s) => s.requestId).sort(), [...answers.keys()].sort());
  // Insertion order: the requests were made one after the other.
  assert.deepEqual(samples.map((s) => s.requestId), [...answers.keys()]);
  for (const sample of samples) {
    const answer = answers.get(sample.requestId)!;
    const { receipt } = sample;
    assert.equal(sample.epoch, EPOCH);
    assert.equal(sample.request.model, TINY);
    assert.equal(sample.request.prompt, answer.prompt);
    assert.deepEqual(sample.request.messages, answer.messages);
    assert.equal(typeof sample.request.params.seed, "number");
    assert.equal(sample.responseText, answer.text);
    assert.equal(sample.promptTokenIds.length, answer.promptTokens);
    assert.equal(sample.outputTokenIds.length, answer.completionTokens);
    assert.ok(sample.outputTokenIds.length > 0);
    assert.equal(sample.logprobs.chosen.length, sample.outputTokenIds.length);
    assert.ok(sample.logprobs.chosen.every((lp) => lp === null || lp <= 1e-6));
    const k = sample.request.params.top_logprobs;
    assert.ok(sample.logprobs.top.every((alts) => alts.length === k), `top_logprobs ${String(k)}`);
    assert.deepEqual([receipt.requestId, receipt.status, receipt.promptTokens, receipt.completionTokens], [sample.requestId, "complete", answer.promptTokens, answer.completionTokens]);
    assert.ok(isAddressEqual(receipt.nodeAddress, node.key.address));
    assert.ok(isAddressEqual(receipt.account, gw.core.alice.account.address));
    assert.ok(receipt.charged > 0n);
    assert.ok(receipt.signedReceipt !== null);
    assert.equal(receipt.signedReceipt.receipt.outputTokens, sample.outputTokenIds.length);
    assert.deepEqual(await verifyReceipt(receipt.signedReceipt, { chainId: gw.chainId, expectedSigner: node.key.address }), { valid: true, signer: receipt.nodeAddress });
  }
  // One page holds them all; the epoch filter keeps the epoch's and no other.
  assert.deepEqual((await allSamples(100, EPOCH)).samples, samples);
  assert.deepEqual((await allSamples(10_000)).pages, 1);
  assert.deepEqual(await getPage(`?epoch=${EPOCH + 1}`), { status: 200, body: { object: "list", data: [], next: null } });
  const exact = (await getPage("?limit=9")).body as { next: string | null; data: unknown[] };
  assert.equal(exact.data.length, 9);
  // The last page still names a cursor: polling after it gives nothing new and the same cursor back.
  assert.match(exact.next ?? "", /^\d+$/);
  assert.deepEqual(await getPage(`?after=${exact.next}`), { status: 200, body: { object: "list", data: [], next: exact.next } });
});

test("the parser names a malformed field of a real page", async () => {
  const { body } = await getPage("?limit=2");
  const page = body as { data: Record<string, unknown>[] };
  const breakAt = (field: string, change: (sample: Record<string, unknown>) => void) => {
    const copy = structuredClone(page);
    change(copy.data[1]!);
    assert.throws(
      () => parseEpochSamplesPage(copy),
      (error: unknown) => error instanceof EpochDataError && error.field === field,
      field,
    );
  };
  breakAt("data[1].outputTokenIds[0]", (s) => ((s.outputTokenIds as unknown[])[0] = -1));
  breakAt("data[1].logprobs.chosen[0]", (s) => ((s.logprobs as { chosen: unknown[] }).chosen[0] = "0.1"));
  breakAt("data[1].receipt.signedReceipt", (s) => ((s.receipt as { signedReceipt: { signature: string } }).signedReceipt.signature = "nope"));
  breakAt("data[1].receipt.requestId", (s) => (s.requestId = "cmpl-someone-else"));
  breakAt("data[1].request.model", (s) => ((s.request as { model: unknown }).model = 1));
});

test("bad parameters get OpenAI's error shape; the token guards samples as it guards receipts", async () => {
  for (const [query, param] of [
    ["?limit=0", "limit"],
    ["?limit=10001", "limit"],
    ["?limit=two", "limit"],
    ["?after=-1", "after"],
    ["?epoch=x", "epoch"],
    ["?epoch=-1", "epoch"],
  ] as const) {
    const { status, body } = await getPage(query);
    assert.equal(status, 400, query);
    assert.deepEqual((body as { error: { type: string; param: string } }).error.param, param, query);
    assert.equal((body as { error: { type: string } }).error.type, "invalid_request_error", query);
  }
  const config = { chainId: gw.chainId, vault: gw.vault, gateway: gw.gateway, epochAt: () => EPOCH, receiptsToken: "validator-secret" };
  const guarded = createApp({ pool: gw.pool, credit: gw.credit, store: gw.store, config });
  assert.equal((await guarded.request("/v1/samples")).status, 401);
  assert.equal((await guarded.request("/v1/samples", { headers: { authorization: "Bearer wrong-secret1" } })).status, 401);
  const ok = await guarded.request("/v1/samples?limit=1", { headers: { authorization: "Bearer validator-secret" } });
  assert.equal(ok.status, 200);
  assert.equal(parseEpochSamplesPage(await ok.json()).data.length, 1);
  // A store without the sample queries (a wrapped one) answers 404 rather than failing.
  const s = gw.store;
  const bare = createApp({ pool: gw.pool, credit: gw.credit, store: { insert: (r, x) => s.insert(r, x), rememberGrant: (g) => s.rememberGrant(g), receiptsOfEpoch: (e, p) => s.receiptsOfEpoch(e, p), usageByGrant: (e) => s.usageByGrant(e) }, config });
  assert.equal((await bare.request("/v1/samples", { headers: { authorization: "Bearer validator-secret" } })).status, 404);
});
