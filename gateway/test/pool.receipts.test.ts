/**
 * The pool's batched receipt check gives verifyReceipt's verdict for every receipt of a batch,
 * whatever else is in the batch: valid ones from several nodes (first receipts of a key
 * included), tampered fields, a flipped recovery bit, a non-canonical s, another chain, another
 * expected signer, malformed input.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { hashLogprobs, hashTokenIds, signReceipt, verifyReceipt, type SignedReceipt } from "../../sdk/src/receipt.ts";
import type { ReceiptExpectation } from "../../sdk/src/receiptCheck/verifier.ts";
import { secp256k1 } from "@noble/curves/secp256k1";
import { BatchedReceiptVerifier } from "../src/pool/receiptBatch.ts";

const CHAIN = 31337;
const nodes = [privateKeyToAccount(generatePrivateKey()), privateKeyToAccount(generatePrivateKey())];

async function receipt(node: (typeof nodes)[number], i: number): Promise<SignedReceipt> {
  return signReceipt(
    node,
    { requestId: `cmpl-${i}`, modelId: "m", promptHash: hashTokenIds([1, 2, i]), outputHash: hashTokenIds([3]), logprobsHash: hashLogprobs([-0.5]), promptTokens: 3, outputTokens: 1, startedAt: 1_700_000_000_000 + i, firstTokenMs: 1, totalMs: 2 },
    CHAIN,
  );
}

const flipV = (signed: SignedReceipt): SignedReceipt => ({ ...signed, signature: `${signed.signature.slice(0, 130)}${signed.signature.endsWith("1b") ? "1c" : "1b"}` as Hex });
const highS = (signed: SignedReceipt): SignedReceipt => {
  const s = BigInt(`0x${signed.signature.slice(66, 130)}`);
  const flipped = (secp256k1.CURVE.n - s).toString(16).padStart(64, "0");
  return flipV({ ...signed, signature: `${signed.signature.slice(0, 66)}${flipped}${signed.signature.slice(130)}` as Hex });
};

describe("BatchedReceiptVerifier", () => {
  it("gives verifyReceipt's verdict for each receipt of one batch", async () => {
    const verifier = new BatchedReceiptVerifier();
    const [a, b] = nodes as [(typeof nodes)[number], (typeof nodes)[number]];
    // Teach it node a's key first, so that both the batched path and the recovery path run below.
    assert.equal((await verifier.verify(await receipt(a, 0), { expectedSigner: a.address, chainId: CHAIN })).valid, true);
    assert.equal(verifier.cachedNodes, 1);

    const cases: [SignedReceipt, ReceiptExpectation][] = [];
    for (let i = 1; i <= 6; i++) cases.push([await receipt(a, i), { expectedSigner: a.address, chainId: CHAIN }]);
    cases.push([await receipt(b, 1), { expectedSigner: b.address, chainId: CHAIN }]); // b's first: recovery
    cases.push([await receipt(b, 2), { expectedSigner: b.address, chainId: CHAIN }]);
    const good = await receipt(a, 7);
    cases.push([{ ...good, receipt: { ...good.receipt, outputTokens: 2 } }, { expectedSigner: a.address, chainId: CHAIN }]); // tampered
    cases.push([flipV(await receipt(a, 8)), { expectedSigner: a.address, chainId: CHAIN }]);
    cases.push([highS(await receipt(a, 9)), { expectedSigner: a.address, chainId: CHAIN }]);
    cases.push([await receipt(a, 10), { expectedSigner: b.address, chainId: CHAIN }]); // another signer expected
    cases.push([await receipt(a, 11), { expectedSigner: a.address, chainId: 1 }]); // another chain
    cases.push([{ ...good, signature: "0x1234" as Hex }, { expectedSigner: a.address, chainId: CHAIN }]); // malformed
    // b's receipt claiming a's key as its node: the signature is b's, not a's.
    const forged = await receipt(b, 3);
    cases.push([{ ...forged, receipt: { ...forged.receipt, node: a.address } }, { expectedSigner: a.address, chainId: CHAIN }]);

    const verdicts = await Promise.all(cases.map(([signed, expect]) => verifier.verify(signed, expect)));
    const expected = await Promise.all(cases.map(([signed, expect]) => verifyReceipt(signed, expect)));
    assert.deepEqual(verdicts, expected);
    assert.deepEqual(verdicts.map((v) => v.valid), [true, true, true, true, true, true, true, true, false, false, false, false, false, false, false]);
    assert.equal(verifier.cachedNodes, 2);
  });

  it("keeps the verdicts of a second batch after a bad one", async () => {
    const verifier = new BatchedReceiptVerifier();
    const [a] = nodes as [(typeof nodes)[number]];
    await verifier.verify(await receipt(a, 0), { expectedSigner: a.address, chainId: CHAIN });
    const bad = flipV(await receipt(a, 1));
    assert.equal((await verifier.verify(bad, { expectedSigner: a.address, chainId: CHAIN })).valid, false);
    const again = await Promise.all([2, 3].map(async (i) => verifier.verify(await receipt(a, i), { expectedSigner: a.address, chainId: CHAIN })));
    assert.deepEqual(again.map((v) => v.valid), [true, true]);
  });

  it("gives busy nodes' keys big tables, same verdicts; an idle one makes room for another", async () => {
    let now = 0;
    const verifier = new BatchedReceiptVerifier({ hotAfter: 3, maxHot: 1, now: () => now });
    const [a, b] = nodes as [(typeof nodes)[number], (typeof nodes)[number]];
    const check = async (node: (typeof nodes)[number], from: number, count: number) => {
      const cases: [SignedReceipt, ReceiptExpectation][] = [];
      for (let i = from; i < from + count; i++) cases.push([await receipt(node, i), { expectedSigner: node.address, chainId: CHAIN }]);
      cases.push([flipV(await receipt(node, from + count)), { expectedSigner: node.address, chainId: CHAIN }]);
      const good = await receipt(node, from + count + 1);
      cases.push([{ ...good, receipt: { ...good.receipt, totalMs: 9 } }, { expectedSigner: node.address, chainId: CHAIN }]);
      const verdicts = await Promise.all(cases.map(([signed, expect]) => verifier.verify(signed, expect)));
      assert.deepEqual(verdicts, await Promise.all(cases.map(([signed, expect]) => verifyReceipt(signed, expect))));
      assert.deepEqual(verdicts.map((v) => v.valid), [...Array(count).fill(true), false, false]);
    };
    await check(a, 0, 1); // recovery
    await check(a, 10, 4); // a becomes busy
    assert.equal(verifier.hotNodes, 1);
    await check(a, 20, 3); // checked with the big table
    await check(b, 0, 1);
    await check(b, 10, 4); // no room: a is not idle yet
    await check(b, 20, 3);
    now += 61_000;
    await check(b, 30, 3); // a has been idle: b takes its place
    assert.equal(verifier.hotNodes, 1);
    await check(a, 30, 3); // a back on its small table
    await check(b, 40, 3);
  });
});
