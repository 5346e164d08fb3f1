/**
 * Epoch data between gateway and oracle: what the gateway's store holds, serialized as the
 * epoch endpoints serve it, parses back to the same values; every malformed field is named.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { getAddress, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { epochSampleOf } from "../../gateway/src/api/samples.ts";
import { openStore, type CompletionReceipt, type ReceiptStore, type StoredReceipt, type ValidatorSample } from "../../gateway/src/store/index.ts";
import { grantIdOf } from "../src/apiKey.ts";
import { EpochDataError, parseEpochReceipt, parseEpochReceiptsPage, parseEpochSample, parseEpochSamplesPage, parseEpochUsage, serializeEpochJson, type EpochUsage } from "../src/epochData.ts";
import { signReceipt } from "../src/receipt.ts";
import { SPEND_GRANT_TYPES, settlementDomain, type SpendGrant } from "../src/typedData.ts";

const nodeKey = privateKeyToAccount(generatePrivateKey());
const user = privateKeyToAccount(generatePrivateKey());
const VAULT = getAddress("0x5FbDB2315678afecb367f032d93F642f64180aa3");
const GATEWAY = getAddress("0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
const ASSET = getAddress("0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0");
const OPERATOR = getAddress("0x90F79bf6EB2c4f870365E785982E1f101E93b906");
const UINT256_MAX = 2n ** 256n - 1n;
const grant: SpendGrant = { account: user.address, gateway: GATEWAY, asset: ASSET, cap: UINT256_MAX, expiry: 2n ** 64n - 1n, nonce: 3n };
const orphanGrant: SpendGrant = { ...grant, nonce: 4n };

function record(requestId: string, overrides: Partial<CompletionReceipt> = {}): CompletionReceipt {
  return {
    requestId,
    epoch: 5,
    model: "pod-gpt2-tiny",
    nodeAddress: nodeKey.address,
    nodeAccount: OPERATOR,
    grantId: grantIdOf(grant),
    account: user.address,
    asset: ASSET,
    inputPricePerMTok: 150_000n,
    outputPricePerMTok: UINT256_MAX,
    promptTokens: 12,
    completionTokens: 3,
    charged: 1_234_567_890_123_456_789_012n,
    status: "complete",
    timings: { receivedAt: 1_760_000_000_000, firstTokenMs: 4, totalMs: 9 },
    signedReceipt: null,
    ...overrides,
  };
}

/** What the endpoints send: the stored record (seq, createdAt, timings included) as JSON. */
const wire = (value: unknown): unknown => JSON.parse(serializeEpochJson(value));

function withoutGatewayFields(stored: StoredReceipt) {
  const { seq: _seq, createdAt: _createdAt, timings: _timings, ...rest } = stored;
  return rest;
}

function rejectsAt(field: string, run: () => unknown) {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof EpochDataError, `expected EpochDataError, got ${String(error)}`);
    assert.equal(error.field, field, error.message);
    return true;
  });
}

describe("epoch data", { timeout: 60_000 }, () => {
  let dataDir: string;
  let store: ReceiptStore;
  let stored: StoredReceipt[];
  let usage: unknown;
  let signature: Hex;

  before(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), "pod-epoch-data-"));
    store = await openStore({ dataDir, syncCommits: false });
    const signed = await signReceipt(
      nodeKey,
      { requestId: "req-signed", modelId: "pod-gpt2-tiny", promptHash: `0x${"11".repeat(32)}`, outputHash: `0x${"22".repeat(32)}`, logprobsHash: `0x${"33".repeat(32)}`, promptTokens: 12, outputTokens: 3, startedAt: 1_760_000_000_001, firstTokenMs: 2, totalMs: 8 },
      31337,
    );
    await store.insert(record("req-signed", { signedReceipt: signed }));
    await store.insert(record("req-partial", { status: "partial", completionTokens: 0, charged: 0n, signedReceipt: null, timings: { receivedAt: 1_760_000_000_100, firstTokenMs: null, totalMs: 3 } }));
    await store.insert(record("req-orphan", { grantId: grantIdOf(orphanGrant), charged: 7n }));
    signature = await user.signTypedData({ domain: settlementDomain("creditVault", 31337, VAULT), types: SPEND_GRANT_TYPES, primaryType: "SpendGrant", message: grant });
    await store.rememberGrant({ grant, signature });
    stored = (await store.receiptsOfEpoch(5, { limit: 100 })).items;
    const usages = await store.usageByGrant(5);
    usage = wire({
      object: "usage",
      epoch: 5,
      data: usages.flatMap((u) => (u.signedGrant === null ? [] : [{ grantId: u.grantId, grant: u.signedGrant.grant, signature: u.signedGrant.signature, cumulative: u.cumulative, settled: u.settled }])),
      unsettleable: usages.filter((u) => u.signedGrant === null).map((u) => u.grantId),
    });
  });
  after(async () => {
    await store?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  test("serializeEpochJson writes bigints as decimal strings", () => {
    assert.equal(serializeEpochJson({ a: UINT256_MAX, b: [0n, 1], c: null }), `{"a":"${UINT256_MAX}","b":["0",1],"c":null}`);
  });

  test("round trip: a page of real store records parses back to the same receipts, extra fields ignored", () => {
    assert.equal(stored.length, 3);
    const page = parseEpochReceiptsPage(wire({ object: "list", epoch: 5, data: stored, next: "3" }));
    assert.equal(page.epoch, 5);
    assert.equal(page.next, "3");
    assert.deepEqual(page.data, stored.map(withoutGatewayFields));
    assert.equal(page.data[0]?.signedReceipt?.receipt.requestId, "req-signed");
    assert.equal(page.data[1]?.signedReceipt, null);
    assert.equal(page.data[0]?.outputPricePerMTok, UINT256_MAX);
    assert.equal(parseEpochReceiptsPage(wire({ epoch: 5, data: [], next: null })).next, null);
  });

  test("round trip: usage with the signed grant, unsettleable grants apart", () => {
    const parsed: EpochUsage = parseEpochUsage(usage);
    assert.deepEqual(parsed, {
      epoch: 5,
      data: [{ grantId: grantIdOf(grant), grant, signature, cumulative: 1_234_567_890_123_456_789_012n }], // the partial one charged 0
      unsettleable: [grantIdOf(orphanGrant)],
    });
  });

  test("each malformed receipt field is named", () => {
    const good = wire(stored[0]) as Record<string, unknown>;
    const page = (receipt: Record<string, unknown>) => ({ epoch: 5, data: [wire(stored[1]), receipt], next: null });
    const cases: [string, Record<string, unknown>][] = [
      ["data[1].requestId", { requestId: "" }],
      ["data[1].epoch", { epoch: -1 }],
      ["data[1].model", { model: 7 }],
      ["data[1].nodeAddress", { nodeAddress: "0x1234" }],
      ["data[1].nodeAccount", { nodeAccount: undefined }],
      ["data[1].grantId", { grantId: "0x12" }],
      ["data[1].account", { account: "not an address" }],
      ["data[1].asset", { asset: 5 }],
      ["data[1].inputPricePerMTok", { inputPricePerMTok: 150000 }],
      ["data[1].outputPricePerMTok", { outputPricePerMTok: (UINT256_MAX + 1n).toString() }],
      ["data[1].promptTokens", { promptTokens: 1.5 }],
      ["data[1].completionTokens", { completionTokens: "3" }],
      ["data[1].charged", { charged: "-1" }],
      ["data[1].charged", { charged: "0x10" }],
      ["data[1].charged", { charged: "007" }],
      ["data[1].status", { status: "done" }],
      ["data[1].signedReceipt", { signedReceipt: { ...(good.signedReceipt as object), signature: "nope" } }],
      ["data[1].signedReceipt", { signedReceipt: undefined }],
      ["data[1].signedReceipt.receipt.requestId", { requestId: "req-other" }],
      ["data[1].epoch", { epoch: 6 }],
    ];
    for (const [field, change] of cases) rejectsAt(field, () => parseEpochReceiptsPage(page({ ...good, ...change })));
    rejectsAt("data[0]", () => parseEpochReceipt(null, "data[0]"));
    rejectsAt("page", () => parseEpochReceiptsPage([]));
    rejectsAt("epoch", () => parseEpochReceiptsPage({ epoch: "5", data: [], next: null }));
    rejectsAt("data", () => parseEpochReceiptsPage({ epoch: 5, data: {}, next: null }));
    rejectsAt("next", () => parseEpochReceiptsPage({ epoch: 5, data: [], next: 3 }));
  });

  test("each malformed usage field is named", () => {
    const body = usage as { data: Record<string, unknown>[] };
    const good = body.data[0] as Record<string, unknown> & { grant: Record<string, unknown> };
    const withEntry = (entry: Record<string, unknown>) => ({ ...body, data: [good, entry] });
    const grantWith = (change: Record<string, unknown>) => ({ ...good, grant: { ...good.grant, ...change } });
    const cases: [string, Record<string, unknown>][] = [
      ["data[1].grantId", { ...good, grantId: 42 }],
      ["data[1].grantId", { ...good, grantId: grantIdOf(orphanGrant) }],
      ["data[1].grant", { ...good, grant: null }],
      ["data[1].grant.account", grantWith({ account: "0x" })],
      ["data[1].grant.gateway", grantWith({ gateway: null })],
      ["data[1].grant.asset", grantWith({ asset: "0xzz" })],
      ["data[1].grant.cap", grantWith({ cap: 1 })],
      ["data[1].grant.expiry", grantWith({ expiry: (2n ** 64n).toString() })],
      ["data[1].grant.nonce", grantWith({ nonce: "1e3" })],
      ["data[1].signature", { ...good, signature: "0x1234" }],
      ["data[1].signature", { ...good, signature: `0x${"ff".repeat(64)}1b` }], // high s: not canonical
      ["data[1].cumulative", { ...good, cumulative: "" }],
    ];
    for (const [field, entry] of cases) rejectsAt(field, () => parseEpochUsage(withEntry(entry)));
    rejectsAt("usage", () => parseEpochUsage("usage"));
    rejectsAt("epoch", () => parseEpochUsage({ ...body, epoch: 2 ** 53 }));
    rejectsAt("data", () => parseEpochUsage({ ...body, data: null }));
    rejectsAt("unsettleable", () => parseEpochUsage({ ...body, unsettleable: "0x" }));
    rejectsAt("unsettleable[1]", () => parseEpochUsage({ ...body, unsettleable: [grantIdOf(grant), "0x00"] }));
  });
});

describe("validator samples", { timeout: 60_000 }, () => {
  let dataDir: string;
  let store: ReceiptStore;
  let body: Record<string, unknown> & { data: Record<string, unknown>[] };
  const sample = (requestId: string, chat: boolean): ValidatorSample => ({
    requestId,
    request: { model: "pod-gpt2-tiny", ...(chat ? { messages: [{ role: "user", content: "" }] } : { prompt: "Hello" }), params: { temperature: 0.7, max_tokens: 3, top_logprobs: 1, seed: 9 } },
    responseText: "",
    promptTokenIds: [15496, 0],
    outputTokenIds: [11, 12, 50256],
    // A token the node sampled although its probability underflowed: -Infinity, which JSON cannot carry.
    logprobs: { chosen: [-0.5, -Infinity, 0], top: [[{ tokenId: 11, logprob: -0.5 }], [{ tokenId: 7, logprob: -0.01 }], [{ tokenId: 50256, logprob: 0 }]] },
  });

  before(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), "pod-epoch-samples-"));
    store = await openStore({ dataDir, syncCommits: false });
    await store.insert(record("req-a"), sample("req-a", false));
    await store.insert(record("req-b", { epoch: 6 }), sample("req-b", true));
    const samples = await store.samplesSince({ limit: 10 });
    const data = await Promise.all(samples.items.map(async (s) => epochSampleOf(s, (await store.receipt(s.requestId))!)));
    body = wire({ object: "list", data, next: "17" }) as typeof body;
  });
  after(async () => {
    await store?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  test("round trip: stored samples with their receipts parse back; -Infinity logprobs arrive as null", async () => {
    const page = parseEpochSamplesPage(body);
    assert.equal(page.next, "17");
    assert.deepEqual(
      page.data.map((s) => [s.requestId, s.epoch, s.receipt.epoch, s.request.prompt, s.request.messages]),
      [
        ["req-a", 5, 5, "Hello", undefined],
        ["req-b", 6, 6, undefined, [{ role: "user", content: "" }]],
      ],
    );
    assert.deepEqual(page.data[0]!.logprobs, { chosen: [-0.5, null, 0], top: sample("req-a", false).logprobs.top });
    assert.deepEqual(page.data[0]!.receipt, withoutGatewayFields((await store.receipt("req-a"))!));
    assert.deepEqual(page.data[1]!.request.params, { temperature: 0.7, max_tokens: 3, top_logprobs: 1, seed: 9 });
    assert.deepEqual(parseEpochSamplesPage({ data: [], next: null }), { data: [], next: null });
  });

  test("each malformed sample field is named", () => {
    const good = body.data[0]!;
    const at = (change: (s: Record<string, any>) => void) => {
      const copy = structuredClone(good) as Record<string, any>;
      change(copy);
      return { data: [body.data[1], copy], next: null };
    };
    const cases: [string, (s: Record<string, any>) => void][] = [
      ["data[1].requestId", (s) => (s.requestId = 5)],
      ["data[1].epoch", (s) => (s.epoch = "5")],
      ["data[1].request", (s) => (s.request = null)],
      ["data[1].request.model", (s) => (s.request.model = "")],
      ["data[1].request.messages", (s) => (s.request.messages = [])], // both messages and prompt
      ["data[1].request.messages", (s) => delete s.request.prompt], // neither
      ["data[1].request.prompt", (s) => (s.request.prompt = 1)],
      ["data[1].request.params", (s) => (s.request.params = [])],
      ["data[1].responseText", (s) => (s.responseText = null)],
      ["data[1].promptTokenIds", (s) => (s.promptTokenIds = "1,2")],
      ["data[1].promptTokenIds[1]", (s) => (s.promptTokenIds[1] = 1.5)],
      ["data[1].outputTokenIds[2]", (s) => (s.outputTokenIds[2] = 2 ** 32)],
      ["data[1].logprobs", (s) => (s.logprobs = undefined)],
      ["data[1].logprobs.chosen[0]", (s) => (s.logprobs.chosen[0] = "-0.5")],
      ["data[1].logprobs.chosen", (s) => s.logprobs.chosen.pop()],
      ["data[1].logprobs.top", (s) => s.logprobs.top.pop()],
      ["data[1].logprobs.top[1]", (s) => (s.logprobs.top[1] = {})],
      ["data[1].logprobs.top[1][0].tokenId", (s) => (s.logprobs.top[1][0].tokenId = -7)],
      ["data[1].logprobs.top[1][0].logprob", (s) => (s.logprobs.top[1][0].logprob = null)],
      ["data[1].receipt", (s) => delete s.receipt],
      ["data[1].receipt.charged", (s) => (s.receipt.charged = 1)],
      ["data[1].receipt.requestId", (s) => (s.receipt.requestId = "req-b")],
      ["data[1].receipt.epoch", (s) => (s.receipt.epoch = 6)],
      ["data[1].receipt.model", (s) => (s.receipt.model = "another-model")],
    ];
    for (const [field, change] of cases) rejectsAt(field, () => parseEpochSamplesPage(at(change)));
    rejectsAt("page", () => parseEpochSamplesPage(null));
    rejectsAt("data", () => parseEpochSamplesPage({ data: "", next: null }));
    rejectsAt("next", () => parseEpochSamplesPage({ data: [], next: "abc" }));
    rejectsAt("data[0]", () => parseEpochSample([], "data[0]"));
  });
});
