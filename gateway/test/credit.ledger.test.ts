/** The ledger's and the pricing's pure rules, with chain states written by hand. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { getAddress, type Hex } from "viem";
import { grantIdOf } from "../../sdk/src/apiKey.ts";
import type { SpendGrant } from "../../sdk/src/typedData.ts";
import { costInAsset, costInPod, CreditLedger, InsufficientCredit, KeyRejected, parsePricingConfig, type AccountChainState, type GrantChainState } from "../src/credit/index.ts";

const ACCOUNT = getAddress("0x1000000000000000000000000000000000000001");
const GATEWAY = getAddress("0x2000000000000000000000000000000000000002");
const USD = getAddress("0x3000000000000000000000000000000000000003");
const POD = getAddress("0x4000000000000000000000000000000000000004");
const ZERO: Hex = `0x${"0".repeat(64)}`;
const NOW = 1_800_000_000n;

const grant = (fields: Partial<SpendGrant> = {}): SpendGrant => ({ account: ACCOUNT, gateway: GATEWAY, asset: USD, cap: 100n, expiry: NOW + 60n, nonce: 1n, ...fields });
const fresh: GrantChainState = { spent: 0n, revokedAt: 0n, nonceGrant: ZERO };
function chain(credit: bigint, grants: [SpendGrant, Partial<GrantChainState>?][], pendingWithdrawal = 0n): AccountChainState {
  return { credit, pendingWithdrawal, grants: new Map(grants.map(([g, s]) => [grantIdOf(g), { ...fresh, ...s }])) };
}

describe("credit ledger", () => {
  test("available is the smaller of what the cap and the balance leave, never negative", () => {
    const ledger = new CreditLedger();
    const g = grant({ cap: 100n });
    const id = grantIdOf(g);
    assert.deepEqual(ledger.availability(g, id, chain(50n, [[g]])), { cap: 100n, balance: 50n, available: 50n, limit: "balance" });
    assert.deepEqual(ledger.availability(g, id, chain(500n, [[g, { spent: 30n }]])), { cap: 70n, balance: 500n, available: 70n, limit: "cap" });
    assert.deepEqual(ledger.availability(g, id, chain(70n, [[g, { spent: 30n }]])), { cap: 70n, balance: 70n, available: 70n, limit: "cap" });
    assert.deepEqual(ledger.availability(g, id, chain(10n, [[g]], 25n)), { cap: 100n, balance: 0n, available: 0n, limit: "balance" });
  });

  test("served usage counts as unsettled until the chain's spentOf reaches it", () => {
    const ledger = new CreditLedger();
    const g = grant();
    const id = grantIdOf(g);
    ledger.commit(ledger.reserve(g, id, 40n, chain(100n, [[g]]), NOW), 25n);
    assert.equal(ledger.servedOf(id), 25n);
    assert.equal(ledger.availability(g, id, chain(100n, [[g]])).available, 75n);
    // Settled 10 of the 25: the balance already lost those 10.
    assert.deepEqual(ledger.availability(g, id, chain(90n, [[g, { spent: 10n }]])), { cap: 75n, balance: 75n, available: 75n, limit: "cap" });
    // All settled; another replica settled 5 more than this one served: counted once, as spent.
    assert.deepEqual(ledger.availability(g, id, chain(70n, [[g, { spent: 30n }]])), { cap: 70n, balance: 70n, available: 70n, limit: "cap" });
  });

  test("first reservation of a grant with settled usage adopts the chain's spent as served", () => {
    const ledger = new CreditLedger();
    const g = grant();
    const id = grantIdOf(g);
    ledger.commit(ledger.reserve(g, id, 10n, chain(100n, [[g, { spent: 60n }]]), NOW), 10n);
    assert.equal(ledger.servedOf(id), 70n, "the next settlement's cumulativeSpent");
  });

  test("the account's other grants in the asset share the balance; other assets do not", () => {
    const ledger = new CreditLedger();
    const a = grant({ nonce: 1n });
    const b = grant({ nonce: 2n });
    const pod = grant({ nonce: 3n, asset: POD });
    ledger.commit(ledger.reserve(a, grantIdOf(a), 30n, chain(100n, [[a]]), NOW), 30n);
    ledger.reserve(pod, grantIdOf(pod), 90n, chain(100n, [[pod]]), NOW);
    assert.deepEqual(
      ledger.grantsOf(ACCOUNT, USD).map((r) => r.nonce),
      [1n],
    );
    assert.equal(ledger.availability(b, grantIdOf(b), chain(100n, [[a], [b]])).available, 70n);
    assert.throws(() => ledger.availability(b, grantIdOf(b), chain(100n, [[b]])), /lacks grant/, "a state without grant a would forget its usage");
  });

  test("refusals name the binding limit; ties name the cap", () => {
    const ledger = new CreditLedger();
    const g = grant({ cap: 50n });
    const id = grantIdOf(g);
    const refusal = (credit: bigint, cost: bigint) => {
      try {
        ledger.reserve(g, id, cost, chain(credit, [[g]]), NOW);
      } catch (error) {
        assert.ok(error instanceof InsufficientCredit);
        return [error.limit, error.available];
      }
      assert.fail("expected a refusal");
    };
    assert.deepEqual(refusal(40n, 41n), ["balance", 40n]);
    assert.deepEqual(refusal(60n, 51n), ["cap", 50n]);
    assert.deepEqual(refusal(50n, 51n), ["cap", 50n]);
    assert.throws(() => ledger.reserve(g, id, -1n, chain(60n, [[g]]), NOW), RangeError);
  });

  test("key checks come before credit: expiry, revocation, nonce bound on-chain", () => {
    const ledger = new CreditLedger();
    const g = grant();
    const id = grantIdOf(g);
    const reason = (state: AccountChainState, now = NOW) => {
      try {
        ledger.reserve(g, id, 1_000n, state, now);
      } catch (error) {
        if (error instanceof KeyRejected) return error.reason;
        throw error;
      }
      assert.fail("expected a rejection");
    };
    assert.equal(reason(chain(0n, [[g]]), g.expiry + 1n), "expired");
    assert.equal(reason(chain(0n, [[g, { revokedAt: NOW - 5n }]])), "revoked");
    assert.equal(reason(chain(0n, [[g, { nonceGrant: grantIdOf(grant({ cap: 1n })) }]])), "nonce_reused");
    // Bound to this very grant: fine (then the balance decides).
    assert.throws(() => ledger.reserve(g, id, 1n, chain(0n, [[g, { nonceGrant: id }]]), NOW), InsufficientCredit);
  });

  test("restored usage holds its nonce and counts against the balance", () => {
    const ledger = new CreditLedger();
    const g = grant();
    const twin = grant({ cap: 5n });
    ledger.restoreServed(g, grantIdOf(g), 40n);
    assert.equal(ledger.availability(g, grantIdOf(g), chain(100n, [[g]])).available, 60n);
    assert.throws(() => ledger.reserve(twin, grantIdOf(twin), 1n, chain(100n, [[g], [twin]]), NOW), (e: unknown) => e instanceof KeyRejected && e.reason === "nonce_reused");
  });
});

describe("pricing", () => {
  const price = { inputPricePerMTok: 2n * 10n ** 18n, outputPricePerMTok: 6n * 10n ** 18n };
  const config = parsePricingConfig({ pod: POD, stablecoins: [{ asset: USD, unitsPerPod: 250_000n }] });
  const id = grantIdOf(grant());

  test("POD cost: tokens times price per million, rounded up", () => {
    assert.equal(costInPod(price, { promptTokens: 0, completionTokens: 0 }), 0n);
    assert.equal(costInPod(price, { promptTokens: 1, completionTokens: 1 }), 8n * 10n ** 12n);
    assert.equal(costInPod({ inputPricePerMTok: 1n, outputPricePerMTok: 0n }, { promptTokens: 1, completionTokens: 0 }), 1n, "a millionth of a wei is a wei");
    assert.equal(costInPod({ inputPricePerMTok: 3n, outputPricePerMTok: 0n }, { promptTokens: 1_000_000, completionTokens: 0 }), 3n);
    assert.equal(costInAsset(price, { promptTokens: 5, completionTokens: 7 }, POD, config, id), costInPod(price, { promptTokens: 5, completionTokens: 7 }));
  });

  test("stablecoin cost: converted at the configured POD price with one rounding up", () => {
    // 1M prompt tokens = 2 POD = $0.50 = 500000 units.
    assert.equal(costInAsset(price, { promptTokens: 1_000_000, completionTokens: 0 }, USD, config, id), 500_000n);
    // 3 prompt tokens = 6e12 wei = 1.5 units: 2, where rounding each token would give 3.
    assert.equal(costInAsset(price, { promptTokens: 3, completionTokens: 0 }, USD, config, id), 2n);
    const huge = { inputPricePerMTok: 2n ** 128n - 1n, outputPricePerMTok: 2n ** 128n - 1n };
    assert.ok(costInAsset(huge, { promptTokens: 2 ** 31, completionTokens: 2 ** 31 }, USD, config, id) > 0n);
  });

  test("the cost grows with tokens, so the reservation at max_tokens bounds any shorter answer", () => {
    let last = -1n;
    for (let completion = 0; completion <= 300; completion++) {
      const cost = costInAsset(price, { promptTokens: 17, completionTokens: completion }, USD, config, id);
      assert.ok(cost >= last);
      last = cost;
    }
  });

  test("an asset without a POD price is a rejected key; bad usage and bad config are refused", () => {
    assert.throws(() => costInAsset(price, { promptTokens: 1, completionTokens: 1 }, GATEWAY, config, id), (e: unknown) => e instanceof KeyRejected && e.reason === "unpriced_asset");
    assert.throws(() => costInPod(price, { promptTokens: -1, completionTokens: 0 }), RangeError);
    assert.throws(() => costInPod(price, { promptTokens: 0.5, completionTokens: 0 }), RangeError);
    assert.throws(() => parsePricingConfig({ pod: POD, stablecoins: [{ asset: USD, unitsPerPod: 0n }] }), /positive/);
    assert.throws(() => parsePricingConfig({ pod: POD, stablecoins: [{ asset: POD, unitsPerPod: 1n }] }), /twice/);
  });
});
