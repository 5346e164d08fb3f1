/**
 * The ReceiptStore contract, run against each backend (store.test.ts: PGlite;
 * store.postgres.test.ts: a throwaway PostgreSQL cluster). Not a test file itself.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { getAddress, type Address, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { grantIdOf } from "../../sdk/src/apiKey.ts";
import { signReceipt, verifyReceipt } from "../../sdk/src/receipt.ts";
import type { SpendGrant } from "../../sdk/src/typedData.ts";
import { InvalidRecordError, type CompletionReceipt, type ReceiptStore, type StoredReceipt, type ValidatorSample } from "../src/store/index.ts";

export type StoreHarness = {
  /** Opens the store on the same database every time (a restart when called again). */
  open(): Promise<ReceiptStore>;
  cleanup(): Promise<void>;
};

const NODE_KEY = privateKeyToAccount("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d");
const addr = (n: number): Address => getAddress(`0x${n.toString(16).padStart(40, "0")}`);
const hash = (n: number): Hex => `0x${n.toString(16).padStart(64, "0")}`;
const UINT256_MAX = 2n ** 256n - 1n;
export const ASSET_A = addr(0xa11);
export const ASSET_B = addr(0xb22);

export function makeReceipt(requestId: string, overrides: Partial<CompletionReceipt> = {}): CompletionReceipt {
  return {
    requestId,
    epoch: 1,
    model: "pod-gpt2-tiny",
    nodeAddress: NODE_KEY.address,
    nodeAccount: addr(0x0de),
    grantId: hash(1),
    account: addr(0xacc),
    asset: ASSET_A,
    inputPricePerMTok: 150_000n,
    outputPricePerMTok: 600_000n,
    promptTokens: 12,
    completionTokens: 30,
    charged: 19_800n,
    status: "complete",
    timings: { receivedAt: 1_760_000_000_123, firstTokenMs: 7, totalMs: 41 },
    signedReceipt: null,
    ...overrides,
  };
}

export function makeSample(requestId: string): ValidatorSample {
  return {
    requestId,
    request: { model: "pod-gpt2-tiny", messages: [{ role: "user", content: "Say hi ☀️" }], params: { temperature: 0, max_tokens: 3, stop: ["\n"], logprobs: true } },
    responseText: "hi there",
    promptTokenIds: [50256, 0, 17, 4242],
    outputTokenIds: [9, 50255, 11],
    logprobs: {
      chosen: [-0.1234567890123456, -Infinity, -3.0000000000000004],
      top: [[{ tokenId: 9, logprob: -0.1234567890123456 }, { tokenId: 3, logprob: -2.5 }], [{ tokenId: 1, logprob: -1e-300 }], []],
    },
  };
}

function comparable(stored: StoredReceipt | null): CompletionReceipt | null {
  if (stored === null) return null;
  const { seq: _seq, createdAt: _createdAt, ...rest } = stored;
  return rest;
}

export function storeSuite(name: string, harness: () => Promise<StoreHarness>): void {
  describe(`ReceiptStore (${name})`, { timeout: 240_000 }, () => {
    let h: StoreHarness;
    let store: ReceiptStore;
    before(async () => {
      h = await harness();
      store = await h.open();
    });
    after(async () => {
      await store?.close();
      await h?.cleanup();
    });

    it("round-trips every field of a receipt, bigints exact, the node's signature still valid", async () => {
      const signed = await signReceipt(NODE_KEY, {
        requestId: "rt-1", modelId: "pod-gpt2-tiny", promptHash: hash(11), outputHash: hash(12), logprobsHash: hash(13),
        promptTokens: 12, outputTokens: 30, startedAt: 1_760_000_000_130, firstTokenMs: 5, totalMs: 33,
      }, 31337);
      const full = makeReceipt("rt-1", { signedReceipt: signed, charged: UINT256_MAX, inputPricePerMTok: UINT256_MAX - 1n, outputPricePerMTok: 10n ** 40n + 7n, epoch: 2 ** 40 });
      const before = Date.now();
      assert.deepEqual(await store.insert(full), { inserted: true });
      const stored = await store.receipt("rt-1");
      assert.ok(stored);
      assert.deepEqual(comparable(stored), full);
      assert.ok(stored.createdAt instanceof Date && Math.abs(stored.createdAt.getTime() - before) < 60_000);
      assert.ok(stored.signedReceipt && (await verifyReceipt(stored.signedReceipt, { chainId: 31337 })).valid);

      const partial = makeReceipt("rt-2", { status: "partial", charged: 0n, completionTokens: 0, timings: { receivedAt: 1, firstTokenMs: null, totalMs: 0 } });
      await store.insert(partial);
      assert.deepEqual(comparable(await store.receipt("rt-2")), partial);
      assert.equal(await store.receipt("nope"), null);
    });

    it("normalizes addresses and hashes, and refuses invalid records without writing", async () => {
      await store.insert(makeReceipt("norm-1", { account: addr(0xabc).toLowerCase() as Address, grantId: hash(0xabc).toUpperCase().replace("0X", "0x") as Hex }));
      const stored = await store.receipt("norm-1");
      assert.equal(stored?.account, addr(0xabc));
      assert.equal(stored?.grantId, hash(0xabc));
      const bad: Partial<CompletionReceipt>[] = [
        { charged: -1n }, { charged: UINT256_MAX + 1n }, { account: "0x1234" as Address }, { grantId: "0x12" as Hex },
        { epoch: -1 }, { epoch: 1.5 }, { promptTokens: -1 }, { status: "done" as "complete" }, { model: "" },
      ];
      for (const [i, override] of bad.entries()) {
        await assert.rejects(store.insert(makeReceipt(`bad-${i}`, override)), InvalidRecordError);
        assert.equal(await store.receipt(`bad-${i}`), null);
      }
      const otherRequest = await signReceipt(NODE_KEY, {
        requestId: "someone-else", modelId: "m", promptHash: hash(1), outputHash: hash(2), logprobsHash: hash(3),
        promptTokens: 1, outputTokens: 1, startedAt: 1, firstTokenMs: 1, totalMs: 1,
      }, 1);
      await assert.rejects(store.insert(makeReceipt("bad-signed", { signedReceipt: otherRequest })), /another request/);
      await assert.rejects(store.insert(makeReceipt("bad-sample"), { ...makeSample("bad-sample"), promptTokenIds: [-1] }), InvalidRecordError);
      await assert.rejects(store.insert(makeReceipt("bad-sample"), { ...makeSample("bad-sample"), responseText: "nul \u0000" }), /U\+0000/);
      assert.equal(await store.receipt("bad-sample"), null);
      // A literal backslash-u0000 is ordinary text.
      const literal = { ...makeSample("literal-nul"), responseText: "\\u0000 is how JSON escapes it" };
      await store.insert(makeReceipt("literal-nul"), literal);
      assert.equal((await store.sampleOf("literal-nul"))?.responseText, literal.responseText);
    });

    it("is idempotent by requestId: retries, concurrent or with other amounts, never double-insert", async () => {
      const grantId = hash(0x1de);
      const first = makeReceipt("idem-1", { grantId, charged: 100n });
      assert.deepEqual(await store.insert(first), { inserted: true });
      assert.deepEqual(await store.insert(first), { inserted: false });
      assert.deepEqual(await store.insert({ ...first, charged: 999n }, makeSample("idem-1")), { inserted: false });
      assert.equal((await store.receipt("idem-1"))?.charged, 100n);
      assert.equal(await store.sampleOf("idem-1"), null);

      const racing = await Promise.all(Array.from({ length: 20 }, (_, i) => store.insert(makeReceipt("idem-2", { grantId, charged: BigInt(1000 + i) }))));
      assert.equal(racing.filter((r) => r.inserted).length, 1);
      assert.deepEqual(await store.spendOfGrant(grantId), { charged: 100n + (await store.receipt("idem-2"))!.charged, settled: 0n });
    });

    it("pages an epoch's receipts in insertion order, complete and without duplicates", async () => {
      const epoch = 500;
      const ids: string[] = [];
      for (let batch = 0; batch < 10; batch++) {
        await Promise.all(Array.from({ length: 100 }, (_, i) => {
          const id = `page-${batch * 100 + i}`;
          ids.push(id);
          const noise = i % 10 === 0 ? [store.insert(makeReceipt(`noise-${batch}-${i}`, { epoch: epoch + (i % 20 === 0 ? 1 : -1) }))] : [];
          return Promise.all([store.insert(makeReceipt(id, { epoch })), ...noise]);
        }));
      }
      for (const limit of [97, 100, 1000, 5000]) {
        const seen: StoredReceipt[] = [];
        let after: string | undefined;
        let pages = 0;
        do {
          const page = await store.receiptsOfEpoch(epoch, { after, limit });
          assert.ok(page.items.length <= limit);
          seen.push(...page.items);
          after = page.next ?? undefined;
          pages++;
        } while (after !== undefined);
        assert.equal(pages, Math.ceil(1000 / limit), `limit ${limit}`);
        assert.equal(seen.length, 1000);
        assert.ok(seen.every((r, i) => r.epoch === epoch && (i === 0 || r.seq > seen[i - 1]!.seq)));
        assert.deepEqual(new Set(seen.map((r) => r.requestId)), new Set(ids));
      }
      assert.deepEqual(await store.receiptsOfEpoch(123_456, { limit: 10 }), { items: [], next: null });
      await assert.rejects(store.receiptsOfEpoch(epoch, { limit: 0 }), InvalidRecordError);
      await assert.rejects(store.receiptsOfEpoch(epoch, { limit: 10, after: "x'; drop table" }), InvalidRecordError);
    });

    it("stores validator samples with token ids and logprobs exact, and pages them", async () => {
      const sample = makeSample("smp-1");
      assert.deepEqual(await store.insert(makeReceipt("smp-1", { epoch: 900 }), sample), { inserted: true });
      await store.insert(makeReceipt("smp-2", { epoch: 901 }), makeSample("smp-2"));
      await store.insert(makeReceipt("smp-none", { epoch: 900 }));
      const stored = await store.sampleOf("smp-1");
      assert.ok(stored);
      const { seq, epoch, createdAt, ...rest } = stored;
      assert.deepEqual(rest, sample);
      assert.equal(epoch, 900);
      assert.ok(typeof seq === "bigint" && createdAt instanceof Date);
      assert.equal(await store.sampleOf("smp-none"), null);

      const first = await store.samplesSince({ limit: 1 });
      assert.equal(first.items.length, 1);
      const rest2 = await store.samplesSince({ after: first.next ?? undefined, limit: 100 });
      const all = [...first.items, ...rest2.items].map((s) => s.requestId);
      assert.ok(all.includes("smp-1") && all.includes("smp-2") && !all.includes("smp-none"));
      assert.equal(rest2.next, null);
      assert.deepEqual((await store.samplesSince({ limit: 100, epoch: 901 })).items.map((s) => s.requestId), ["smp-2"]);
    });

    it("aggregates usage per grant across epochs for settlement, and settles forward only", async () => {
      const grantA = { account: addr(0x5001), gateway: addr(0x9a7e), asset: ASSET_A, cap: 10n ** 24n, expiry: 2_000_000_000n, nonce: 1n } satisfies SpendGrant;
      const grantB = { ...grantA, asset: ASSET_B, nonce: 2n } satisfies SpendGrant;
      const idA = grantIdOf(grantA);
      const idB = grantIdOf(grantB);
      const signature = `0x${"ab".repeat(65)}` as Hex;
      await store.rememberGrant({ grant: grantA, signature });
      await store.rememberGrant({ grant: grantA, signature }); // idempotent
      const charges: [Hex, Address, number, bigint][] = [
        [idA, ASSET_A, 7001, 10n], [idA, ASSET_A, 7001, 5n], [idA, ASSET_A, 7002, UINT256_MAX / 4n], [idA, ASSET_A, 7004, 1n],
        [idB, ASSET_B, 7001, 3n], [idB, ASSET_B, 7003, 4n],
      ];
      for (const [i, [grantId, asset, epoch, charged]] of charges.entries()) {
        await store.insert(makeReceipt(`usage-${i}`, { grantId, asset, epoch, charged, account: grantA.account }));
      }
      const mine = async (upTo: number) => (await store.usageByGrant(upTo)).filter((u) => u.account === grantA.account);
      assert.deepEqual(await mine(7000), []);
      const at7002 = await mine(7002);
      assert.deepEqual(at7002.map((u) => [u.grantId, u.asset, u.cumulative, u.settled]), [
        [idA, ASSET_A, 15n + UINT256_MAX / 4n, 0n],
        [idB, ASSET_B, 3n, 0n],
      ]);
      assert.deepEqual(at7002[0]?.signedGrant, { grant: grantA, signature });
      assert.equal(at7002[1]?.signedGrant, null);
      const all = await store.usageByGrant(10_000);
      assert.ok(all.every((u, i) => i === 0 || all[i - 1]!.asset <= u.asset), "sorted by asset");

      const tx1 = hash(0x7e1);
      assert.equal(await store.markSettled(idA, 15n, tx1), true);
      assert.equal(await store.markSettled(idA, 15n, hash(0x7e2)), false);
      assert.equal(await store.markSettled(idA, 14n, hash(0x7e3)), false);
      const afterSettle = (await mine(7004)).find((u) => u.grantId === idA);
      assert.deepEqual([afterSettle?.cumulative, afterSettle?.settled, afterSettle?.lastSettlementTx], [16n + UINT256_MAX / 4n, 15n, tx1]);
      assert.deepEqual(await store.spendOfGrant(idA), { charged: 16n + UINT256_MAX / 4n, settled: 15n });
      assert.deepEqual(await store.spendOfGrant(hash(0xdead)), { charged: 0n, settled: 0n });
      assert.equal(await store.unsettledOfAccount(grantA.account, ASSET_A), 1n + UINT256_MAX / 4n);
      assert.equal(await store.unsettledOfAccount(grantA.account, ASSET_B), 7n);
      assert.equal(await store.unsettledOfAccount(addr(0x404), ASSET_B), 0n);
    });

    it("loses nothing across a restart, and migrations stay applied once", async () => {
      await Promise.all(Array.from({ length: 50 }, (_, i) => store.insert(makeReceipt(`restart-${i}`, { epoch: 4242, charged: BigInt(i) }), i % 5 === 0 ? makeSample(`restart-${i}`) : undefined)));
      const beforeRestart = await store.receiptsOfEpoch(4242, { limit: 1000 });
      await store.close();
      store = await h.open();
      const afterRestart = await store.receiptsOfEpoch(4242, { limit: 1000 });
      assert.equal(afterRestart.items.length, 50);
      assert.deepEqual(afterRestart, beforeRestart);
      assert.deepEqual((await store.sampleOf("restart-5"))?.outputTokenIds, makeSample("restart-5").outputTokenIds);
      assert.deepEqual(await store.insert(makeReceipt("restart-0", { epoch: 4242 })), { inserted: false });
      assert.ok(await store.receipt("rt-1"));
    });
  });
}
