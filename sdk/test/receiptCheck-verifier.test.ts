import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Address } from "viem";
import { signReceipt, verifyReceipt } from "../src/receipt.ts";
import { ReceiptVerifier } from "../src/receiptCheck/verifier.ts";
import { fields, keys, mutatedReceipts, receiptCases } from "./receiptCases.ts";

describe("ReceiptVerifier", () => {
  it("returns verifyReceipt's exact result (verdict, reason, signer) for every case and expectation", async () => {
    const list = await receiptCases();
    const expectations: { chainId?: number; expectedSigner?: Address }[] = [
      {},
      { chainId: 31337 },
      { chainId: 1 },
      { expectedSigner: keys[0]!.address },
      { expectedSigner: keys[1]!.address, chainId: 31337 },
      { expectedSigner: keys[0]!.address.toLowerCase() as Address },
    ];
    const verifier = new ReceiptVerifier();
    // Twice: the first round recovers each node key, the second takes the cached-key path.
    for (const round of [1, 2]) {
      for (const expect of expectations) {
        for (const { name, signed } of list) {
          assert.deepEqual(await verifier.verify(signed, expect), await verifyReceipt(signed, expect), `round ${round}, ${name}, ${JSON.stringify(expect)}`);
        }
      }
    }
    assert.equal(verifier.cachedNodes, keys.length);
  });

  it("agrees with verifyReceipt on random one-character mutations", async () => {
    const verifier = new ReceiptVerifier();
    for (const signed of await mutatedReceipts(150)) {
      assert.deepEqual(await verifier.verify(signed, { chainId: 31337 }), await verifyReceipt(signed, { chainId: 31337 }));
    }
  });

  it("keeps at most maxNodes keys, dropping the least recently used, and still verifies evicted nodes", async () => {
    const verifier = new ReceiptVerifier({ maxNodes: 2 });
    const signed = await Promise.all(keys.map((key, k) => signReceipt(key, fields(500 + k), 31337)));
    for (const receipt of [signed[0]!, signed[1]!, signed[0]!, signed[2]!, signed[1]!, signed[0]!]) {
      assert.deepEqual(await verifier.verify(receipt, { chainId: 31337 }), { valid: true, signer: receipt.receipt.node });
      assert.ok(verifier.cachedNodes <= 2);
    }
    assert.equal(verifier.cachedNodes, 2);
  });
});
