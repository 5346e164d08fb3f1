import assert from "node:assert/strict";
import { network } from "hardhat";
import { zeroHash } from "viem";
import { DAY, now } from "./helpers/fixture.ts";
import { depositUsd, deployCredit, grantIdOf, makeGrant, settleAs, signedUsage, USD } from "./helpers/credit.ts";
import { nextAt } from "./helpers/unit.ts";

const connection = await network.create();
const fixture = () => deployCredit(connection);
const { viem } = connection;
/** The default creditWithdrawalDelay, which is also the settlement grace. */
const GRACE = 3n * DAY;

/** Alice and carol each hold 100 dUSD of credit. */
async function funded() {
  const env = await connection.networkHelpers.loadFixture(fixture);
  await depositUsd(env, env.alice, 100n * USD);
  await depositUsd(env, env.carol, 100n * USD);
  return env;
}

describe("CreditVault grants", () => {
  describe("expiry", () => {
    it("usage settles until the grace after expiry ends, not a second later (GrantExpired)", async () => {
      const env = await funded();
      const { alice, creditVault } = env;
      const grant = await makeGrant(connection, env, alice, { expiry: (await now(connection)) + DAY });
      const id = grantIdOf(grant);
      await nextAt(connection, grant.expiry + 1n);
      await settleAs(env, [await signedUsage(env, alice, grant, 5n * USD)]);
      await nextAt(connection, grant.expiry + GRACE);
      await settleAs(env, [await signedUsage(env, alice, grant, 9n * USD)]);
      assert.equal(await creditVault.read.spentOf([id]), 9n * USD);

      await nextAt(connection, grant.expiry + GRACE + 1n);
      await viem.assertions.revertWithCustomErrorWithArgs(
        settleAs(env, [await signedUsage(env, alice, grant, 10n * USD)]),
        creditVault,
        "GrantExpired",
        [id, grant.expiry],
      );
      // A re-send of what already settled stays a harmless no-op after the grace.
      await settleAs(env, [await signedUsage(env, alice, grant, 9n * USD)]);
    });

    it("a grant first used after the grace is refused too", async () => {
      const env = await funded();
      const { alice, creditVault } = env;
      const grant = await makeGrant(connection, env, alice, { expiry: (await now(connection)) + DAY });
      await nextAt(connection, grant.expiry + GRACE + 1n);
      await viem.assertions.revertWithCustomErrorWithArgs(
        settleAs(env, [await signedUsage(env, alice, grant, 1n)]),
        creditVault,
        "GrantExpired",
        [grantIdOf(grant), grant.expiry],
      );
    });
  });

  describe("revocation", () => {
    it("usage made before a revocation settles within the grace, then GrantRevoked", async () => {
      const env = await funded();
      const { alice, a, creditVault } = env;
      const grant = await makeGrant(connection, env, alice, { nonce: 5n });
      const id = grantIdOf(grant);
      await settleAs(env, [await signedUsage(env, alice, grant, 2n * USD)]);
      const revokedAt = (await now(connection)) + 100n;
      await nextAt(connection, revokedAt);
      await creditVault.write.revokeGrant([5n], { account: alice.account });

      await nextAt(connection, revokedAt + GRACE);
      await settleAs(env, [await signedUsage(env, alice, grant, 6n * USD)]);
      assert.equal(await creditVault.read.spentOf([id]), 6n * USD);
      await nextAt(connection, revokedAt + GRACE + 1n);
      await viem.assertions.revertWithCustomErrorWithArgs(
        settleAs(env, [await signedUsage(env, alice, grant, 7n * USD)]),
        creditVault,
        "GrantRevoked",
        [id, a, 5n],
      );
    });

    it("revoking a nonce never settled still lets its first usage settle within the grace", async () => {
      const env = await funded();
      const { alice, a, creditVault } = env;
      const grant = await makeGrant(connection, env, alice, { nonce: 9n });
      const revokedAt = (await now(connection)) + 10n;
      await nextAt(connection, revokedAt);
      await creditVault.write.revokeGrant([9n], { account: alice.account });
      await nextAt(connection, revokedAt + GRACE);
      await settleAs(env, [await signedUsage(env, alice, grant, 3n * USD)]);
      assert.equal(await creditVault.read.spentOf([grantIdOf(grant)]), 3n * USD);

      const late = await makeGrant(connection, env, alice, { nonce: 10n });
      await creditVault.write.revokeGrant([10n], { account: alice.account });
      const lateRevokedAt = await creditVault.read.revokedAt([a, 10n]);
      await nextAt(connection, lateRevokedAt + GRACE + 1n);
      await viem.assertions.revertWithCustomErrorWithArgs(
        settleAs(env, [await signedUsage(env, alice, late, 1n)]),
        creditVault,
        "GrantRevoked",
        [grantIdOf(late), a, 10n],
      );
    });
  });

  describe("nonces", () => {
    it("a nonce names one grant: another grant with a used nonce is refused (NonceAlreadyUsed)", async () => {
      const env = await funded();
      const { alice, a, creditVault } = env;
      const first = await makeGrant(connection, env, alice, { nonce: 7n, cap: 10n * USD });
      const replay = { ...first, cap: 90n * USD };
      assert.equal(await creditVault.read.nonceGrant([a, 7n]), zeroHash);
      await settleAs(env, [await signedUsage(env, alice, first, 10n * USD)]);
      assert.equal(await creditVault.read.nonceGrant([a, 7n]), grantIdOf(first));
      await viem.assertions.revertWithCustomErrorWithArgs(
        settleAs(env, [await signedUsage(env, alice, replay, 50n * USD)]),
        creditVault,
        "NonceAlreadyUsed",
        [a, 7n, grantIdOf(replay)],
      );
      // Both in one batch: the first binds the nonce, so the second is refused.
      const other = { ...first, nonce: 8n };
      await viem.assertions.revertWithCustomErrorWithArgs(
        settleAs(env, [await signedUsage(env, alice, other, 1n), await signedUsage(env, alice, { ...other, cap: 11n * USD }, 1n)]),
        creditVault,
        "NonceAlreadyUsed",
        [a, 8n, grantIdOf({ ...other, cap: 11n * USD })],
      );
    });

    it("nonces are per account, and a nonce binds only when its grant is first charged", async () => {
      const env = await funded();
      const { alice, carol, creditVault } = env;
      const aliceGrant = await makeGrant(connection, env, alice, { nonce: 7n });
      const carolGrant = await makeGrant(connection, env, carol, { nonce: 7n });
      const unused = await makeGrant(connection, env, alice, { nonce: 3n, cap: 1n });
      const used = { ...unused, cap: 20n * USD };
      await settleAs(env, [
        await signedUsage(env, alice, aliceGrant, 1n),
        await signedUsage(env, carol, carolGrant, 2n),
        await signedUsage(env, alice, unused, 0n),
        await signedUsage(env, alice, used, 4n),
      ]);
      assert.equal(await creditVault.read.spentOf([grantIdOf(aliceGrant)]), 1n);
      assert.equal(await creditVault.read.spentOf([grantIdOf(carolGrant)]), 2n);
      assert.equal(await creditVault.read.spentOf([grantIdOf(used)]), 4n);
    });
  });
});
