import assert from "node:assert/strict";
import { network } from "hardhat";
import { getAddress, type Address } from "viem";
import { POD } from "./helpers/fixture.ts";
import { depositUsd, deployCredit, grantIdOf, makeGrant, settleAs, signedUsage, USD, type Credit } from "./helpers/credit.ts";
import { eventsIn } from "./helpers/unit.ts";

const connection = await network.create();
const fixture = () => deployCredit(connection);
const { viem } = connection;

/** Alice and carol each hold 100 dUSD of credit; alice also 10 POD. */
async function funded() {
  const env = await connection.networkHelpers.loadFixture(fixture);
  await depositUsd(env, env.alice, 100n * USD);
  await depositUsd(env, env.carol, 100n * USD);
  await env.creditVault.write.deposit([env.podToken.address, 10n * POD], { account: env.alice.account });
  return { ...env, USDC: getAddress(env.usd.address), PODT: getAddress(env.podToken.address) };
}

/** The RevenueForwarded events of a settlement, as [asset, buyback, epoch, amount]. */
async function revenueOf(env: Credit, hash: `0x${string}`): Promise<[Address, Address, bigint, bigint][]> {
  const logs = await eventsIn(env, hash, env.creditVault, "RevenueForwarded");
  return logs.map((log) => {
    const { asset, buyback, epoch, amount } = log.args as { asset: Address; buyback: Address; epoch: bigint; amount: bigint };
    return [asset, buyback, epoch, amount];
  });
}

describe("CreditVault settle", () => {
  it("charges the increment of cumulative spend and forwards it to the buyback (UsageSettled, RevenueForwarded)", async () => {
    const env = await funded();
    const { creditVault, usd, alice, a, g, USDC, vault, buybackAddress } = env;
    const grant = await makeGrant(connection, env, alice, { cap: 50n * USD });
    const id = grantIdOf(grant);
    const first = settleAs(env, [await signedUsage(env, alice, grant, 20n * USD)], 7n);
    await viem.assertions.emitWithArgs(first, creditVault, "UsageSettled", [id, a, g, USDC, 7n, 20n * USD, 20n * USD]);
    await viem.assertions.emitWithArgs(first, creditVault, "RevenueForwarded", [USDC, buybackAddress, 7n, 20n * USD]);
    await viem.assertions.emitWithArgs(first, usd, "Transfer", [vault, buybackAddress, 20n * USD]);
    assert.equal(await creditVault.read.spentOf([id]), 20n * USD);
    assert.equal(await creditVault.read.creditOf([a, USDC]), 80n * USD);

    const second = settleAs(env, [await signedUsage(env, alice, grant, 50n * USD)], 8n);
    await viem.assertions.emitWithArgs(second, creditVault, "UsageSettled", [id, a, g, USDC, 8n, 30n * USD, 50n * USD]);
    assert.equal(await creditVault.read.creditOf([a, USDC]), 50n * USD);
    assert.equal(await usd.read.balanceOf([buybackAddress]), 50n * USD);
    assert.equal(await usd.read.balanceOf([vault]), 150n * USD);
  });

  it("a re-sent batch charges once; a lower cumulative is skipped", async () => {
    const env = await funded();
    const { creditVault, usd, alice, a, USDC, buybackAddress } = env;
    const grant = await makeGrant(connection, env, alice);
    const batch = [await signedUsage(env, alice, grant, 25n * USD)];
    await settleAs(env, batch);
    const again = await settleAs(env, batch);
    assert.equal((await eventsIn(env, again, creditVault, "UsageSettled")).length, 0);
    assert.deepEqual(await revenueOf(env, again), []);
    await settleAs(env, [await signedUsage(env, alice, grant, 10n * USD)]);
    assert.equal(await creditVault.read.spentOf([grantIdOf(grant)]), 25n * USD);
    assert.equal(await creditVault.read.creditOf([a, USDC]), 75n * USD);
    assert.equal(await usd.read.balanceOf([buybackAddress]), 25n * USD);
  });

  it("forwards one exact revenue amount per asset, whatever the order of the batch", async () => {
    const env = await funded();
    const { creditVault, usd, podToken, alice, carol, a, c, USDC, PODT, buybackAddress } = env;
    const aliceUsd = await makeGrant(connection, env, alice, { nonce: 1n });
    const alicePod = await makeGrant(connection, env, alice, { nonce: 2n, asset: PODT, cap: 10n * POD });
    const carolUsd = await makeGrant(connection, env, carol, { nonce: 1n });
    const hash = await settleAs(
      env,
      [
        await signedUsage(env, alice, aliceUsd, 10n * USD),
        await signedUsage(env, alice, alicePod, 3n * POD),
        await signedUsage(env, carol, carolUsd, 7n * USD),
      ],
      3n,
    );
    assert.deepEqual(await revenueOf(env, hash), [
      [USDC, buybackAddress, 3n, 17n * USD],
      [PODT, buybackAddress, 3n, 3n * POD],
    ]);
    assert.equal((await eventsIn(env, hash, creditVault, "UsageSettled")).length, 3);
    assert.equal(await usd.read.balanceOf([buybackAddress]), 17n * USD);
    assert.equal(await podToken.read.balanceOf([buybackAddress]), 3n * POD);
    assert.equal(await creditVault.read.creditOf([a, USDC]), 90n * USD);
    assert.equal(await creditVault.read.creditOf([a, PODT]), 7n * POD);
    assert.equal(await creditVault.read.creditOf([c, USDC]), 93n * USD);
  });

  it("sends revenue to the buyback governance set", async () => {
    const env = await funded();
    const { creditVault, usd, alice, governance, USDC, buybackAddress } = env;
    const next = getAddress(env.bob.account.address);
    await creditVault.write.setBuyback([next], { account: governance });
    const grant = await makeGrant(connection, env, alice);
    const tx = settleAs(env, [await signedUsage(env, alice, grant, 4n * USD)]);
    await viem.assertions.emitWithArgs(tx, creditVault, "RevenueForwarded", [USDC, next, 1n, 4n * USD]);
    assert.equal(await usd.read.balanceOf([next]), 4n * USD);
    assert.equal(await usd.read.balanceOf([buybackAddress]), 0n);
  });

  it("only the grant's gateway settles it (NotGrantGateway)", async () => {
    const env = await funded();
    const { alice, bob, g, creditVault } = env;
    const grant = await makeGrant(connection, env, alice);
    const b = getAddress(bob.account.address);
    await viem.assertions.revertWithCustomErrorWithArgs(
      settleAs(env, [await signedUsage(env, alice, grant, 1n)], 1n, b),
      creditVault,
      "NotGrantGateway",
      [grantIdOf(grant), g, b],
    );
  });

  it("refuses a grant signed by someone else or altered after signing (InvalidGrantSignature)", async () => {
    const env = await funded();
    const { alice, carol, a, creditVault } = env;
    const grant = await makeGrant(connection, env, alice);
    await viem.assertions.revertWithCustomErrorWithArgs(
      settleAs(env, [await signedUsage(env, alice, grant, 1n, carol)]),
      creditVault,
      "InvalidGrantSignature",
      [grantIdOf(grant), a],
    );
    const signed = await signedUsage(env, alice, grant, 1n);
    for (const altered of [
      { ...grant, cap: grant.cap + 1n },
      { ...grant, expiry: grant.expiry + 1n },
      { ...grant, nonce: 2n },
      { ...grant, asset: env.PODT },
    ]) {
      await viem.assertions.revertWithCustomErrorWithArgs(
        settleAs(env, [{ ...signed, grant: altered }]),
        creditVault,
        "InvalidGrantSignature",
        [grantIdOf(altered), a],
      );
    }
    await viem.assertions.revertWithCustomErrorWithArgs(
      settleAs(env, [{ ...signed, signature: "0x" }]),
      creditVault,
      "InvalidGrantSignature",
      [grantIdOf(grant), a],
    );
  });

  it("authenticates a grant once: later increments of that exact grant need no signature", async () => {
    const env = await funded();
    const { alice, creditVault } = env;
    const grant = await makeGrant(connection, env, alice);
    await settleAs(env, [await signedUsage(env, alice, grant, 1n * USD)]);
    // Its id commits to every field, so the gateway cannot stretch it; revocation is on-chain.
    await settleAs(env, [{ grant, signature: "0x", cumulativeSpent: 3n * USD }]);
    assert.equal(await creditVault.read.spentOf([grantIdOf(grant)]), 3n * USD);
  });

  it("caps cumulative spend at the grant's cap (GrantCapExceeded)", async () => {
    const env = await funded();
    const { alice, creditVault } = env;
    const grant = await makeGrant(connection, env, alice, { cap: 30n * USD });
    await viem.assertions.revertWithCustomErrorWithArgs(
      settleAs(env, [await signedUsage(env, alice, grant, 30n * USD + 1n)]),
      creditVault,
      "GrantCapExceeded",
      [grantIdOf(grant), 30n * USD + 1n, 30n * USD],
    );
    await settleAs(env, [await signedUsage(env, alice, grant, 30n * USD)]);
    assert.equal(await creditVault.read.spentOf([grantIdOf(grant)]), 30n * USD);
  });

  it("takes no more than the account's credit (InsufficientCredit)", async () => {
    const env = await funded();
    const { alice, a, USDC, creditVault } = env;
    const grant = await makeGrant(connection, env, alice, { cap: 500n * USD });
    await settleAs(env, [await signedUsage(env, alice, grant, 60n * USD)]);
    await viem.assertions.revertWithCustomErrorWithArgs(
      settleAs(env, [await signedUsage(env, alice, grant, 101n * USD)]),
      creditVault,
      "InsufficientCredit",
      [a, USDC, 41n * USD, 40n * USD],
    );
  });

  it("one invalid entry reverts the whole batch", async () => {
    const env = await funded();
    const { alice, carol, creditVault, a, c, USDC } = env;
    const good = await makeGrant(connection, env, carol);
    const over = await makeGrant(connection, env, alice, { cap: 5n * USD });
    await viem.assertions.revertWithCustomErrorWithArgs(
      settleAs(env, [await signedUsage(env, carol, good, 3n * USD), await signedUsage(env, alice, over, 6n * USD)]),
      creditVault,
      "GrantCapExceeded",
      [grantIdOf(over), 6n * USD, 5n * USD],
    );
    assert.equal(await creditVault.read.spentOf([grantIdOf(good)]), 0n);
    assert.equal(await creditVault.read.creditOf([c, USDC]), 100n * USD);
    assert.equal(await creditVault.read.creditOf([a, USDC]), 100n * USD);
  });
});
