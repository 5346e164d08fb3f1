import assert from "node:assert/strict";
import { network } from "hardhat";
import { getAddress, stringToHex, zeroAddress } from "viem";
import { deployCore, now, POD, SHARES_PER_POD } from "./helpers/fixture.ts";
import { actAsTimelock, mineAt, nextAt, role, stake } from "./helpers/unit.ts";

const connection = await network.create();
const coreFixture = () => deployCore(connection);
const { viem } = connection;

const S = SHARES_PER_POD;
const REASON = stringToHex("invalid-logprobs", { size: 32 });

/**
 * Alice stakes and bonds 1000 POD and asks to unbond 400 shares' worth, now matured. Governance
 * (impersonated) grants FREEZER_ROLE and SLASHER_ROLE to carol, who stands in for node reports.
 */
async function frozenWorld() {
  const core = await connection.networkHelpers.loadFixture(coreFixture);
  const { bondManager, alice, carol } = core;
  await stake(core, alice, 1000n * POD);
  await bondManager.write.bond([1000n * S], { account: alice.account });
  await bondManager.write.requestUnbond([400n * S], { account: alice.account });
  const [, unlocksAt] = await bondManager.read.pendingUnbond([alice.account.address]);
  await mineAt(connection, BigInt(unlocksAt));
  const tl = await actAsTimelock(connection, core);
  const c = getAddress(carol.account.address);
  await bondManager.write.grantRole([role("FREEZER_ROLE"), c], { account: tl });
  await bondManager.write.grantRole([role("SLASHER_ROLE"), c], { account: tl });
  return { ...core, tl, c, a: getAddress(alice.account.address), freezer: { account: carol.account } };
}

describe("BondManager freezes", () => {
  it("requires FREEZER_ROLE (AccessControlUnauthorizedAccount); PodNetwork grants it to node reports only", async () => {
    const { bondManager, nodeReports, alice, deployer, tl, a } = await frozenWorld();
    const freezer = await bondManager.read.FREEZER_ROLE();
    assert.equal(freezer, role("FREEZER_ROLE"));
    assert.equal(await bondManager.read.hasRole([freezer, nodeReports.address]), true);
    assert.equal(await bondManager.read.hasRole([freezer, tl]), false);
    for (const caller of [alice, deployer]) {
      const who = getAddress(caller.account.address);
      for (const call of [() => bondManager.write.freeze([a], { account: caller.account }), () => bondManager.write.unfreeze([a], { account: caller.account })]) {
        await viem.assertions.revertWithCustomErrorWithArgs(call(), bondManager, "AccessControlUnauthorizedAccount", [who, freezer]);
      }
    }
  });

  it("freezes nest (BondFrozen / BondUnfrozen with the count); a frozen account withdraws nothing (BondIsFrozen)", async () => {
    const { bondManager, alice, freezer, a } = await frozenWorld();
    assert.equal(await bondManager.read.freezesOf([a]), 0n);
    await viem.assertions.emitWithArgs(bondManager.write.freeze([a], freezer), bondManager, "BondFrozen", [a, 1n]);
    await viem.assertions.emitWithArgs(bondManager.write.freeze([a], freezer), bondManager, "BondFrozen", [a, 2n]);
    assert.equal(await bondManager.read.freezesOf([a]), 2n);
    const withdraw = () => bondManager.write.withdrawUnbonded({ account: alice.account });
    await viem.assertions.revertWithCustomErrorWithArgs(withdraw(), bondManager, "BondIsFrozen", [a]);
    await viem.assertions.emitWithArgs(bondManager.write.unfreeze([a], freezer), bondManager, "BondUnfrozen", [a, 1n]);
    await viem.assertions.revertWithCustomErrorWithArgs(withdraw(), bondManager, "BondIsFrozen", [a]);
    await viem.assertions.emitWithArgs(bondManager.write.unfreeze([a], freezer), bondManager, "BondUnfrozen", [a, 0n]);
    await viem.assertions.emitWithArgs(withdraw(), bondManager, "UnbondWithdrawn", [a, 400n * S]);
  });

  it("refuses unfreezing an account that is not frozen (BondNotFrozen) and freezing the zero account (ZeroAccount)", async () => {
    const { bondManager, freezer, a } = await frozenWorld();
    await viem.assertions.revertWithCustomErrorWithArgs(bondManager.write.unfreeze([a], freezer), bondManager, "BondNotFrozen", [a]);
    await bondManager.write.freeze([a], freezer);
    await bondManager.write.unfreeze([a], freezer);
    await viem.assertions.revertWithCustomErrorWithArgs(bondManager.write.unfreeze([a], freezer), bondManager, "BondNotFrozen", [a]);
    await viem.assertions.revertWithCustomError(bondManager.write.freeze([zeroAddress], freezer), bondManager, "ZeroAccount");
  });

  it("a freeze blocks only withdrawals: unbonding, cancelling and slashing go on", async () => {
    const { bondManager, protocolParams, alice, freezer, a, c } = await frozenWorld();
    await bondManager.write.freeze([a], freezer);
    const as = { account: alice.account };
    await viem.assertions.emitWithArgs(bondManager.write.cancelUnbond(as), bondManager, "UnbondCancelled", [a, 400n * S, 1000n * S]);
    const t = (await now(connection)) + 10n;
    await nextAt(connection, t);
    await viem.assertions.emitWithArgs(bondManager.write.requestUnbond([900n * S], as), bondManager, "UnbondRequested", [
      a,
      900n * S,
      900n * S,
      t + (await protocolParams.read.unbondingPeriod()),
    ]);
    await viem.assertions.emitWithArgs(bondManager.write.slash([a, 300n * S, c, REASON], freezer), bondManager, "Slashed", [
      a,
      c,
      100n * S,
      200n * S,
      REASON,
    ]);
    assert.deepEqual([await bondManager.read.activeShares([a]), (await bondManager.read.pendingUnbond([a]))[0]], [0n, 700n * S]);
    assert.equal(await bondManager.read.freezesOf([a]), 1n, "a slash leaves the freeze to its owner");
  });
});
