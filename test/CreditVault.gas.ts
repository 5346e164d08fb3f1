import assert from "node:assert/strict";
import { network } from "hardhat";
import { DAY, now } from "./helpers/fixture.ts";
import { deployCredit, grantees, grantTargetOf, settleAs, signedGrants, USD } from "./helpers/credit.ts";

const connection = await network.create();
const fixture = () => deployCredit(connection);

const GRANTS = 100;

describe("CreditVault gas", () => {
  it(`settles ${GRANTS} grants of ${GRANTS} accounts in one call, first and repeat settlement`, async () => {
    const env = await connection.networkHelpers.loadFixture(fixture);
    const { creditVault, usd, alice, publicClient, buybackAddress } = env;
    const accounts = grantees(GRANTS);
    for (const account of accounts) {
      await creditVault.write.depositFor([account.address, usd.address, 10n * USD], { account: alice.account });
    }
    const grants = await signedGrants(grantTargetOf(env), accounts, 5n * USD, (await now(connection)) + 30n * DAY);
    const gasOf = async (cumulativeSpent: bigint, epoch: bigint) => {
      const hash = await settleAs(env, grants.map((g) => ({ ...g, cumulativeSpent })), epoch);
      return (await publicClient.waitForTransactionReceipt({ hash })).gasUsed;
    };

    // First settlement authenticates each grant and binds its nonce; later ones only add spend.
    const first = await gasOf(1n * USD, 1n);
    const repeat = await gasOf(2n * USD, 2n);
    console.log(`      settle ${GRANTS} grants, first: ${first} gas (${first / BigInt(GRANTS)} per grant)`);
    console.log(`      settle ${GRANTS} grants, repeat: ${repeat} gas (${repeat / BigInt(GRANTS)} per grant)`);
    assert.equal(await usd.read.balanceOf([buybackAddress]), BigInt(GRANTS) * 2n * USD);
    assert.equal(await creditVault.read.creditOf([accounts[0]!.address, usd.address]), 8n * USD);
    // Well inside a 30M block either way.
    assert.ok(first < 10_000_000n && repeat < first);
  });
});
