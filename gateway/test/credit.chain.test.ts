/**
 * The gateway's credit decisions against a real CreditVault (PodDevnet on an in-process chain):
 * deposits, keys signed by the depositing account, settlements sent by the gateway account,
 * withdrawals and revocations, each checked at its edge.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import { network } from "hardhat";
import type { NetworkConnection } from "hardhat/types/network";
import { getAddress, parseEther, parseUnits, type Address } from "viem";
import { createApiKey, grantIdOf, parseApiKey } from "../../sdk/src/apiKey.ts";
import type { SpendGrant } from "../../sdk/src/typedData.ts";
import { deployCore, now } from "../../test/helpers/fixture.ts";
import { actAsTimelock, SAMPLE_MODEL_ID, SAMPLE_MODEL_PARAMS, type Wallet } from "../../test/helpers/unit.ts";
import { CreditGuard, CreditVaultReader, InsufficientCredit, KeyRejected, ModelPriceReader, parsePricingConfig, ReservationClosed, type CreditLimit, type KeyRejectionReason, type PricingConfig } from "../src/credit/index.ts";

const USD = 10n ** 6n;
const MODEL = "gpt2-pod-small"; // SAMPLE_MODEL_ID's name
/** One POD costs $0.25 at this gateway. */
const UNITS_PER_POD = parseUnits("0.25", 6);

let connection: NetworkConnection;

async function deployment() {
  const core = await deployCore(connection);
  const { creditVault, podToken, stablecoin, protocolParams } = core;
  const timelock = await actAsTimelock(connection, core);
  await protocolParams.write.setModelParams([SAMPLE_MODEL_ID, SAMPLE_MODEL_PARAMS], { account: timelock });
  for (const user of [core.alice, core.bob, core.carol]) {
    await stablecoin.write.mint([user.account.address, 1_000_000n * USD]);
    await stablecoin.write.approve([creditVault.address, 2n ** 256n - 1n], { account: user.account });
    await podToken.write.approve([creditVault.address, 2n ** 256n - 1n], { account: user.account });
  }
  const chainId = await core.publicClient.getChainId();
  return { ...core, chainId, usd: getAddress(stablecoin.address), pod: getAddress(podToken.address), vault: getAddress(creditVault.address), gateway: core.dave };
}
type Env = Awaited<ReturnType<typeof deployment>>;

describe("credit decisions on a real CreditVault", () => {
  let env: Env;
  let pricing: PricingConfig;
  /** The guard's clock: the chain's latest block time, synced before each decision. */
  let chainTime = 0n;

  before(async () => {
    connection = await network.create();
  });
  after(async () => {
    await connection.close();
  });
  beforeEach(async () => {
    env = await connection.networkHelpers.loadFixture(deployment);
    pricing = parsePricingConfig({ pod: env.pod, stablecoins: [{ asset: env.usd, unitsPerPod: UNITS_PER_POD }] });
  });

  function guardFor(ttlMs = 0, client: ConstructorParameters<typeof CreditVaultReader>[0]["client"] = env.publicClient) {
    const vault = new CreditVaultReader({ client, creditVault: env.vault, ttlMs });
    const prices = new ModelPriceReader({ client, protocolParams: getAddress(env.protocolParams.address), ttlMs });
    return new CreditGuard({ vault, prices, pricing, clock: () => chainTime });
  }

  async function reserve(guard: CreditGuard, grant: SpendGrant, maxCost: bigint) {
    chainTime = await now(connection);
    return guard.reserve(grant, maxCost);
  }

  async function refused(guard: CreditGuard, grant: SpendGrant, maxCost: bigint, limit: CreditLimit, available: bigint) {
    await assert.rejects(reserve(guard, grant, maxCost), (error: unknown) => {
      assert.ok(error instanceof InsufficientCredit, String(error));
      assert.deepEqual([error.limit, error.requested, error.available], [limit, maxCost, available]);
      return true;
    });
  }

  async function rejected(guard: CreditGuard, grant: SpendGrant, reason: KeyRejectionReason) {
    await assert.rejects(reserve(guard, grant, 1n), (error: unknown) => {
      assert.ok(error instanceof KeyRejected, String(error));
      assert.equal(error.reason, reason, error.message);
      return true;
    });
  }

  async function grantOf(user: Wallet, fields: Partial<SpendGrant> = {}): Promise<{ grant: SpendGrant; key: string }> {
    const grant: SpendGrant = {
      account: getAddress(user.account.address),
      gateway: getAddress(env.gateway.account.address),
      asset: env.usd,
      cap: 100n * USD,
      expiry: (await now(connection)) + 30n * 86_400n,
      nonce: 1n,
      ...fields,
    };
    return { grant, key: await createApiKey(user, grant, { chainId: env.chainId, vault: env.vault }) };
  }

  const deposit = (user: Wallet, amount: bigint, asset: Address = env.usd) => env.creditVault.write.deposit([asset, amount], { account: user.account });

  /** Settles what the guard served under each key, as the gateway account, with the key's signature. */
  async function settle(guard: CreditGuard, ...keys: string[]) {
    const usages = keys.map((key) => {
      const { grant, signature } = parseApiKey(key);
      return { grant, signature, cumulativeSpent: guard.ledger.servedOf(grantIdOf(grant)) };
    });
    await env.creditVault.write.settle([1n, usages], { account: env.gateway.account });
    for (const { grant } of usages) guard.refresh(grant.account, grant.asset);
  }

  test("a grant's cap: exactly the cap is served, one wei more is refused (cap), across settlement", async () => {
    const guard = guardFor();
    await deposit(env.alice, 1_000n * USD);
    const { grant, key } = await grantOf(env.alice, { cap: 10n * USD });
    guard.release(await reserve(guard, grant, 10n * USD));
    await refused(guard, grant, 10n * USD + 1n, "cap", 10n * USD);

    guard.commit(await reserve(guard, grant, 5n * USD), 4n * USD);
    await refused(guard, grant, 6n * USD + 1n, "cap", 6n * USD);
    await settle(guard, key);
    assert.equal(await env.creditVault.read.spentOf([grantIdOf(grant)]), 4n * USD);
    // Settled usage is counted once: the cap leaves 6, the balance 996.
    assert.deepEqual(await guard.availability(grant), { cap: 6n * USD, balance: 996n * USD, available: 6n * USD, limit: "cap" });
    const last = await reserve(guard, grant, 6n * USD);
    await refused(guard, grant, 1n, "cap", 0n);
    guard.commit(last, 6n * USD);
    await settle(guard, key);
    assert.equal(await env.creditVault.read.spentOf([grantIdOf(grant)]), 10n * USD);
  });

  test("the balance: exactly the credit is served, one wei more is refused (balance)", async () => {
    const guard = guardFor();
    await deposit(env.alice, 5n * USD);
    const { grant } = await grantOf(env.alice);
    await refused(guard, grant, 5n * USD + 1n, "balance", 5n * USD);
    guard.commit(await reserve(guard, grant, 5n * USD), 5n * USD);
    await refused(guard, grant, 1n, "balance", 0n);
    await deposit(env.alice, 1n);
    guard.release(await reserve(guard, grant, 1n));
  });

  test("two grants of one account share one balance, before and after settlement", async () => {
    const guard = guardFor();
    await deposit(env.alice, 10n * USD);
    const a = await grantOf(env.alice, { cap: 8n * USD, nonce: 1n });
    const b = await grantOf(env.alice, { cap: 8n * USD, nonce: 2n });
    guard.commit(await reserve(guard, a.grant, 6n * USD), 6n * USD);
    // A's unsettled 6 leaves B 4 of the balance, though B's cap allows 8.
    await refused(guard, b.grant, 4n * USD + 1n, "balance", 4n * USD);
    const inFlight = await reserve(guard, b.grant, 3n * USD);
    // B's in-flight reservation leaves A only 1 of the balance (its cap would leave 2).
    await refused(guard, a.grant, 1n * USD + 1n, "balance", 1n * USD);
    guard.release(inFlight);
    await settle(guard, a.key);
    assert.equal(await env.creditVault.read.creditOf([a.grant.account, env.usd]), 4n * USD);
    await refused(guard, b.grant, 4n * USD + 1n, "balance", 4n * USD);
    guard.commit(await reserve(guard, b.grant, 4n * USD), 4n * USD);
    await refused(guard, a.grant, 1n, "balance", 0n);
    await settle(guard, a.key, b.key);
    assert.equal(await env.creditVault.read.creditOf([a.grant.account, env.usd]), 0n);
  });

  test("balances are per asset: a POD grant does not see stablecoin credit", async () => {
    const guard = guardFor();
    await deposit(env.alice, 10n * USD);
    await deposit(env.alice, parseEther("3"), env.pod);
    const pod = await grantOf(env.alice, { asset: env.pod, cap: parseEther("100") });
    await refused(guard, pod.grant, parseEther("3") + 1n, "balance", parseEther("3"));
    guard.release(await reserve(guard, pod.grant, parseEther("3")));
  });

  test("a pending withdrawal is unavailable from the moment it is requested", async () => {
    const guard = guardFor();
    await deposit(env.alice, 10n * USD);
    const { grant } = await grantOf(env.alice);
    await env.creditVault.write.requestWithdrawal([env.usd, 7n * USD], { account: env.alice.account });
    await refused(guard, grant, 3n * USD + 1n, "balance", 3n * USD);
    guard.commit(await reserve(guard, grant, 3n * USD), 3n * USD);
    await refused(guard, grant, 1n, "balance", 0n);
    await env.creditVault.write.cancelWithdrawal([env.usd], { account: env.alice.account });
    guard.release(await reserve(guard, grant, 7n * USD));
  });

  test("an expired key is served until its expiry second and rejected after", async () => {
    const guard = guardFor();
    await deposit(env.alice, 10n * USD);
    const expiry = (await now(connection)) + 100n;
    const { grant } = await grantOf(env.alice, { expiry });
    await connection.networkHelpers.time.increaseTo(expiry);
    guard.release(await reserve(guard, grant, 1n));
    await connection.networkHelpers.time.increaseTo(expiry + 1n);
    await rejected(guard, grant, "expired");
  });

  test("a revoked key is rejected, even with unsettled usage (which still settles in the grace)", async () => {
    const guard = guardFor();
    await deposit(env.alice, 10n * USD);
    const { grant, key } = await grantOf(env.alice, { nonce: 42n });
    guard.commit(await reserve(guard, grant, 2n * USD), 2n * USD);
    await env.creditVault.write.revokeGrant([42n], { account: env.alice.account });
    await rejected(guard, grant, "revoked");
    await settle(guard, key);
    assert.equal(await env.creditVault.read.spentOf([grantIdOf(grant)]), 2n * USD);
  });

  test("a nonce bound to another grant is rejected: on-chain, and here before the first settlement", async () => {
    const guard = guardFor();
    await deposit(env.alice, 100n * USD);
    // On-chain: the first settlement binds nonce 5 to grant A.
    const a = await grantOf(env.alice, { nonce: 5n, cap: 10n * USD });
    const twin = await grantOf(env.alice, { nonce: 5n, cap: 20n * USD });
    guard.commit(await reserve(guard, a.grant, 1n * USD), 1n * USD);
    await settle(guard, a.key);
    await rejected(guardFor(), twin.grant, "nonce_reused");
    // Here: C served under nonce 9, unsettled; D with nonce 9 would make the next batch revert.
    const c = await grantOf(env.alice, { nonce: 9n, cap: 10n * USD });
    const d = await grantOf(env.alice, { nonce: 9n, cap: 30n * USD });
    guard.commit(await reserve(guard, c.grant, 1n * USD), 1n * USD);
    await rejected(guard, d.grant, "nonce_reused");
    // A grant that was only reserved and released holds no nonce.
    const e = await grantOf(env.alice, { nonce: 11n });
    const f = await grantOf(env.alice, { nonce: 11n, cap: 1n * USD });
    guard.release(await reserve(guard, e.grant, 1n));
    guard.release(await reserve(guard, f.grant, 1n));
  });

  test("reservations hold credit until committed or released, and close once", async () => {
    const guard = guardFor();
    await deposit(env.alice, 10n * USD);
    const { grant } = await grantOf(env.alice);
    const first = await reserve(guard, grant, 10n * USD);
    await refused(guard, grant, 1n, "balance", 0n);
    guard.release(first); // the request failed before any token
    assert.throws(() => guard.release(first), ReservationClosed);
    assert.throws(() => guard.commit(first, 0n), ReservationClosed);
    const second = await reserve(guard, grant, 10n * USD);
    assert.throws(() => guard.commit(second, 10n * USD + 1n), RangeError);
    guard.commit(second, 3n * USD); // a shorter completion than max_tokens frees the rest
    assert.throws(() => guard.commit(second, 3n * USD), ReservationClosed, "never charge twice");
    assert.equal((await guard.availability(grant)).available, 7n * USD);
    assert.equal(guard.ledger.servedOf(grantIdOf(grant)), 3n * USD);
  });

  test("usage served before a restart keeps counting once restored", async () => {
    const guard = guardFor();
    await deposit(env.alice, 10n * USD);
    const { grant, key } = await grantOf(env.alice);
    guard.commit(await reserve(guard, grant, 6n * USD), 6n * USD);
    const restarted = guardFor();
    restarted.ledger.restoreServed(grant, grantIdOf(grant), guard.ledger.servedOf(grantIdOf(grant)));
    await refused(restarted, grant, 4n * USD + 1n, "balance", 4n * USD);
    await settle(restarted, key);
    assert.equal(await env.creditVault.read.spentOf([grantIdOf(grant)]), 6n * USD);
    await refused(restarted, grant, 4n * USD + 1n, "balance", 4n * USD);
  });

  test("prices come from ProtocolParams, converted for stablecoin grants and rounded up", async () => {
    const guard = guardFor();
    await deposit(env.alice, 10n * USD);
    await deposit(env.alice, parseEther("10"), env.pod);
    const usd = await grantOf(env.alice);
    const pod = await grantOf(env.alice, { asset: env.pod, nonce: 2n, cap: parseEther("10") });
    const usage = { promptTokens: 1_000, completionTokens: 500 };
    // 1000 * 2 POD/M + 500 * 6 POD/M = 0.005 POD; at $0.25 per POD, $0.00125 = 1250 units.
    const podQuote = await guard.quote(MODEL, pod.grant);
    const usdQuote = await guard.quote(MODEL, usd.grant);
    assert.ok(podQuote !== undefined && usdQuote !== undefined);
    assert.equal(podQuote.cost(usage), parseEther("0.005"));
    assert.equal(usdQuote.cost(usage), 1_250n);
    // One prompt token costs 2e12 POD wei = $0.0000005: half a unit, charged as one.
    assert.equal(usdQuote.cost({ promptTokens: 1, completionTokens: 0 }), 1n);
    const reservation = await reserve(guard, usd.grant, usdQuote.cost({ promptTokens: 1_000, completionTokens: 2_000 }));
    guard.commit(reservation, usdQuote.cost(usage));
    assert.equal(await guard.quote("no-such-model", usd.grant), undefined);
    const unpriced = await grantOf(env.alice, { asset: getAddress(env.stakedPod.address), nonce: 3n });
    await assert.rejects(guard.quote(MODEL, unpriced.grant), (e: unknown) => e instanceof KeyRejected && e.reason === "unpriced_asset");
  });

  test("chain reads are cached for the TTL, shared by the account's grants, and refreshed on demand", async () => {
    let reads = 0;
    const counting = {
      readContract: ((args: Parameters<typeof env.publicClient.readContract>[0]) => {
        reads++;
        return env.publicClient.readContract(args);
      }) as typeof env.publicClient.readContract,
      getBlockNumber: env.publicClient.getBlockNumber,
    };
    const guard = guardFor(60_000, counting);
    await deposit(env.alice, 10n * USD);
    const a = await grantOf(env.alice, { nonce: 1n });
    guard.commit(await reserve(guard, a.grant, 1n), 1n);
    const first = reads;
    assert.equal(first, 5, "creditOf, withdrawalOf and spentOf, revokedAt, nonceGrant of the grant");
    guard.commit(await reserve(guard, a.grant, 1n), 1n);
    assert.equal(reads, first, "served from the cache");
    // A second grant of the account is read with the first, at one block, then cached for both.
    const b = await grantOf(env.alice, { nonce: 2n });
    guard.commit(await reserve(guard, b.grant, 1n), 1n);
    assert.equal(reads, first + 8);
    guard.commit(await reserve(guard, a.grant, 1n), 1n);
    guard.commit(await reserve(guard, b.grant, 1n), 1n);
    assert.equal(reads, first + 8);
    // A withdrawal is unseen until the cache is refreshed (the TTL bounds that window).
    await env.creditVault.write.requestWithdrawal([env.usd, 10n * USD], { account: env.alice.account });
    guard.release(await reserve(guard, a.grant, 1n));
    guard.refresh(a.grant.account, a.grant.asset);
    await refused(guard, a.grant, 1n, "balance", 0n);
  });
});
