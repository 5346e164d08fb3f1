import assert from "node:assert/strict";
import { network } from "hardhat";
import { getAddress, zeroAddress } from "viem";
import { DAY, deployCore, now, paramName, POD, SHARES_PER_POD } from "./helpers/fixture.ts";
import { actAsTimelock, EMPTY_VAULT_RATE, mineAt, minedAt, nextAt, RATE_SCALE, role, stake, vaultRate } from "./helpers/unit.ts";

const connection = await network.create();
const coreFixture = () => deployCore(connection);
const { viem } = connection;

const S = SHARES_PER_POD; // one POD's worth of shares in a fresh vault
const STAKE = 1000n * S;

/** Alice stakes 1000 POD (1000 * S shares) and, if `bonded` > 0, bonds that many shares. */
async function staked(bonded = 0n) {
  const core = await connection.networkHelpers.loadFixture(coreFixture);
  await stake(core, core.alice, 1000n * POD);
  if (bonded > 0n) await core.bondManager.write.bond([bonded], { account: core.alice.account });
  const a = getAddress(core.alice.account.address);
  const b = getAddress(core.bob.account.address);
  return { ...core, a, b, bm: getAddress(core.bondManager.address) };
}

describe("BondManager", () => {
  describe("bond", () => {
    it("moves the caller's sPOD into the manager without any approval (Bonded)", async () => {
      const { bondManager, stakedPod, alice, a, bm } = await staked();
      assert.equal(await stakedPod.read.allowance([a, bm]), 0n);
      const bonded = bondManager.write.bond([400n * S], { account: alice.account });
      await viem.assertions.emitWithArgs(bonded, bondManager, "Bonded", [a, a, 400n * S, 400n * S]);
      await viem.assertions.emitWithArgs(bonded, stakedPod, "Transfer", [a, bm, 400n * S]);
      assert.equal(await stakedPod.read.balanceOf([a]), STAKE - 400n * S);
      assert.equal(await stakedPod.read.balanceOf([bm]), 400n * S);
      assert.equal(await bondManager.read.activeShares([a]), 400n * S);
      assert.equal(await bondManager.read.bondedShares([a]), 400n * S);
      assert.deepEqual(await bondManager.read.pendingUnbond([a]), [0n, 0n]);

      await viem.assertions.emitWithArgs(bondManager.write.bond([100n * S], { account: alice.account }), bondManager, "Bonded", [
        a,
        a,
        100n * S,
        500n * S,
      ]);
      assert.equal(await bondManager.read.activeShares([a]), 500n * S);
    });

    it("rejects zero shares (ZeroShares) and more than held (StakedPod's ERC20InsufficientBalance)", async () => {
      const { bondManager, stakedPod, alice, bob, a, b } = await staked();
      await viem.assertions.revertWithCustomError(bondManager.write.bond([0n], { account: alice.account }), bondManager, "ZeroShares");
      await viem.assertions.revertWithCustomErrorWithArgs(
        bondManager.write.bond([STAKE + 1n], { account: alice.account }),
        stakedPod,
        "ERC20InsufficientBalance",
        [a, STAKE, STAKE + 1n],
      );
      await viem.assertions.revertWithCustomErrorWithArgs(
        bondManager.write.bond([1n], { account: bob.account }),
        stakedPod,
        "ERC20InsufficientBalance",
        [b, 0n, 1n],
      );
      assert.equal(await bondManager.read.activeShares([a]), 0n);
    });

    it("bonding cooled shares caps the cooldown to what is left (CooldownReduced)", async () => {
      const { bondManager, stakedPod, alice, a } = await staked();
      await stakedPod.write.cooldown([STAKE], { account: alice.account });
      await viem.assertions.emitWithArgs(
        bondManager.write.bond([400n * S], { account: alice.account }),
        stakedPod,
        "CooldownReduced",
        [a, 600n * S],
      );
      assert.equal((await stakedPod.read.cooldownOf([a])).shares, 600n * S);
      const { opensAt } = await stakedPod.read.cooldownOf([a]);
      await mineAt(connection, opensAt);
      assert.equal(await stakedPod.read.maxRedeem([a]), 600n * S);
    });
  });

  describe("bondFor", () => {
    it("requires BOND_FOR_ROLE (AccessControlUnauthorizedAccount)", async () => {
      const { bondManager, alice, a, b } = await staked();
      const bondForRole = await bondManager.read.BOND_FOR_ROLE();
      assert.equal(bondForRole, role("BOND_FOR_ROLE"));
      await viem.assertions.revertWithCustomErrorWithArgs(
        bondManager.write.bondFor([b, S], { account: alice.account }),
        bondManager,
        "AccessControlUnauthorizedAccount",
        [a, bondForRole],
      );
    });

    it("pulls the caller's sPOD into the account's bond (Bonded with payer = caller)", async () => {
      const core = await staked();
      const { bondManager, stakedPod, carol, bob, b } = core;
      const c = getAddress(carol.account.address);
      const timelock = await actAsTimelock(connection, core);
      const bondForRole = role("BOND_FOR_ROLE");
      await viem.assertions.emitWithArgs(
        bondManager.write.grantRole([bondForRole, c], { account: timelock }),
        bondManager,
        "RoleGranted",
        [bondForRole, c, timelock],
      );
      await stake(core, carol, 500n * POD);

      const bonded = bondManager.write.bondFor([b, 200n * S], { account: carol.account });
      await viem.assertions.emitWithArgs(bonded, bondManager, "Bonded", [b, c, 200n * S, 200n * S]);
      await viem.assertions.emitWithArgs(bonded, stakedPod, "Transfer", [c, getAddress(bondManager.address), 200n * S]);
      assert.equal(await stakedPod.read.balanceOf([c]), 300n * S);
      assert.equal(await stakedPod.read.balanceOf([b]), 0n);
      assert.equal(await bondManager.read.activeShares([b]), 200n * S);
      assert.equal(await bondManager.read.activeShares([c]), 0n);

      await viem.assertions.revertWithCustomError(bondManager.write.bondFor([zeroAddress, S], { account: carol.account }), bondManager, "ZeroAccount");
      await viem.assertions.revertWithCustomError(bondManager.write.bondFor([b, 0n], { account: carol.account }), bondManager, "ZeroShares");
      await viem.assertions.revertWithCustomErrorWithArgs(
        bondManager.write.bondFor([b, 300n * S + 1n], { account: carol.account }),
        stakedPod,
        "ERC20InsufficientBalance",
        [c, 300n * S, 300n * S + 1n],
      );

      // The bond is bob's: he unbonds and withdraws it to himself.
      await bondManager.write.requestUnbond([200n * S], { account: bob.account });
      const [, unlocksAt] = await bondManager.read.pendingUnbond([b]);
      await nextAt(connection, unlocksAt);
      await bondManager.write.withdrawUnbonded({ account: bob.account });
      assert.equal(await stakedPod.read.balanceOf([b]), 200n * S);
    });
  });

  describe("active bond checkpoints", () => {
    it("activeSharesAt / activeBondAt read the bond at a timestamp, valued at that time's rate", async () => {
      const core = await staked();
      const { bondManager, stakedPod, podToken, alice, bob, a } = core;
      const t1 = (await now(connection)) + 100n;
      await nextAt(connection, t1);
      await bondManager.write.bond([400n * S], { account: alice.account });

      await podToken.write.transfer([stakedPod.address, 100n * POD], { account: bob.account });
      const t2 = await minedAt(core, await stakedPod.write.checkpointRate({ account: bob.account }));
      const rate2 = await vaultRate(core);
      assert.ok(rate2 > EMPTY_VAULT_RATE);
      const t3 = t2 + DAY;
      await nextAt(connection, t3);
      await bondManager.write.requestUnbond([150n * S], { account: alice.account });
      await mineAt(connection, t3 + 1n);

      assert.equal(await bondManager.read.activeSharesAt([a, t1 - 1n]), 0n);
      assert.equal(await bondManager.read.activeSharesAt([a, t1]), 400n * S);
      assert.equal(await bondManager.read.activeSharesAt([a, t3 - 1n]), 400n * S);
      assert.equal(await bondManager.read.activeSharesAt([a, t3]), 250n * S);
      assert.equal(await bondManager.read.activeBondAt([a, t1 - 1n]), 0n);
      assert.equal(await bondManager.read.activeBondAt([a, t1]), (400n * S * EMPTY_VAULT_RATE) / RATE_SCALE);
      assert.equal(await bondManager.read.activeBondAt([a, t1]), 400n * POD);
      assert.equal(await bondManager.read.activeBondAt([a, t2 - 1n]), 400n * POD);
      const valueAtT2 = (400n * S * rate2) / RATE_SCALE;
      assert.equal(await bondManager.read.activeBondAt([a, t2]), valueAtT2);
      assert.ok(valueAtT2 > 400n * POD);
      // 400 of 1000 shares hold 40% of the 100 POD donation (less rounding).
      assert.ok(440n * POD - valueAtT2 <= 1n);
      assert.equal(await bondManager.read.activeBondAt([a, t3]), (250n * S * rate2) / RATE_SCALE);
    });

    it("reverts FutureLookup(timepoint, now) for a timestamp after the latest block", async () => {
      const { bondManager, a } = await staked(400n * S);
      const latest = await now(connection);
      assert.equal(await bondManager.read.activeSharesAt([a, latest]), 400n * S);
      assert.equal(await bondManager.read.activeBondAt([a, latest]), 400n * POD);
      await viem.assertions.revertWithCustomErrorWithArgs(bondManager.read.activeSharesAt([a, latest + 1n]), bondManager, "FutureLookup", [
        latest + 1n,
        latest,
      ]);
      await viem.assertions.revertWithCustomErrorWithArgs(bondManager.read.activeBondAt([a, latest + 1n]), bondManager, "FutureLookup", [
        latest + 1n,
        latest,
      ]);
    });
  });

  describe("requestUnbond", () => {
    it("rejects zero shares and more than the active bond (InsufficientActiveBond)", async () => {
      const { bondManager, alice, bob, a, b } = await staked(400n * S);
      await viem.assertions.revertWithCustomError(bondManager.write.requestUnbond([0n], { account: alice.account }), bondManager, "ZeroShares");
      await viem.assertions.revertWithCustomErrorWithArgs(
        bondManager.write.requestUnbond([400n * S + 1n], { account: alice.account }),
        bondManager,
        "InsufficientActiveBond",
        [a, 400n * S + 1n, 400n * S],
      );
      await viem.assertions.revertWithCustomErrorWithArgs(
        bondManager.write.requestUnbond([1n], { account: bob.account }),
        bondManager,
        "InsufficientActiveBond",
        [b, 1n, 0n],
      );
      // Pending shares are no longer active: they cannot be requested twice.
      await bondManager.write.requestUnbond([300n * S], { account: alice.account });
      await viem.assertions.revertWithCustomErrorWithArgs(
        bondManager.write.requestUnbond([100n * S + 1n], { account: alice.account }),
        bondManager,
        "InsufficientActiveBond",
        [a, 100n * S + 1n, 100n * S],
      );
    });

    it("moves shares from active to pending at once; a second request adds and restarts the clock", async () => {
      const { bondManager, stakedPod, alice, a } = await staked(400n * S);
      const t1 = (await now(connection)) + 100n;
      await nextAt(connection, t1);
      await viem.assertions.emitWithArgs(
        bondManager.write.requestUnbond([150n * S], { account: alice.account }),
        bondManager,
        "UnbondRequested",
        [a, 150n * S, 150n * S, t1 + 90n * DAY],
      );
      assert.equal(await bondManager.read.activeShares([a]), 250n * S);
      assert.equal(await bondManager.read.activeSharesAt([a, t1]), 250n * S);
      assert.deepEqual(await bondManager.read.pendingUnbond([a]), [150n * S, t1 + 90n * DAY]);
      assert.equal(await bondManager.read.bondedShares([a]), 400n * S);
      assert.equal(await stakedPod.read.balanceOf([a]), STAKE - 400n * S, "nothing leaves the manager yet");

      const t2 = t1 + 10n * DAY;
      await nextAt(connection, t2);
      await viem.assertions.emitWithArgs(
        bondManager.write.requestUnbond([50n * S], { account: alice.account }),
        bondManager,
        "UnbondRequested",
        [a, 50n * S, 200n * S, t2 + 90n * DAY],
      );
      assert.deepEqual(await bondManager.read.pendingUnbond([a]), [200n * S, t2 + 90n * DAY]);
      assert.equal(await bondManager.read.activeShares([a]), 200n * S);
      assert.equal(await bondManager.read.bondedShares([a]), 400n * S);
    });

    it("uses the unbonding period that governance sets", async () => {
      const core = await staked(400n * S);
      const { bondManager, protocolParams, alice, a } = core;
      const timelock = await actAsTimelock(connection, core);
      await protocolParams.write.setParameter([paramName("unbondingPeriod"), 14n * DAY], { account: timelock });
      const t = (await now(connection)) + 5n;
      await nextAt(connection, t);
      await viem.assertions.emitWithArgs(
        bondManager.write.requestUnbond([S], { account: alice.account }),
        bondManager,
        "UnbondRequested",
        [a, S, S, t + 14n * DAY],
      );
    });
  });

  describe("cancelUnbond", () => {
    it("reverts NoPendingUnbond(caller) without a pending unbond", async () => {
      const { bondManager, alice, a } = await staked(400n * S);
      await viem.assertions.revertWithCustomErrorWithArgs(
        bondManager.write.cancelUnbond({ account: alice.account }),
        bondManager,
        "NoPendingUnbond",
        [a],
      );
    });

    it("returns the whole pending unbond to the active bond (UnbondCancelled)", async () => {
      const { bondManager, alice, a } = await staked(400n * S);
      await bondManager.write.requestUnbond([150n * S], { account: alice.account });
      await bondManager.write.requestUnbond([50n * S], { account: alice.account });
      await viem.assertions.emitWithArgs(bondManager.write.cancelUnbond({ account: alice.account }), bondManager, "UnbondCancelled", [
        a,
        200n * S,
        400n * S,
      ]);
      assert.equal(await bondManager.read.activeShares([a]), 400n * S);
      assert.deepEqual(await bondManager.read.pendingUnbond([a]), [0n, 0n]);
      assert.equal(await bondManager.read.bondedShares([a]), 400n * S);
      await viem.assertions.revertWithCustomErrorWithArgs(
        bondManager.write.cancelUnbond({ account: alice.account }),
        bondManager,
        "NoPendingUnbond",
        [a],
      );
    });
  });

  describe("withdrawUnbonded", () => {
    it("reverts NoPendingUnbond(caller) without a pending unbond", async () => {
      const { bondManager, alice, a } = await staked(400n * S);
      await viem.assertions.revertWithCustomErrorWithArgs(
        bondManager.write.withdrawUnbonded({ account: alice.account }),
        bondManager,
        "NoPendingUnbond",
        [a],
      );
    });

    it("one second early: UnbondingNotElapsed(account, unlocksAt); at unlocksAt: UnbondWithdrawn, sPOD back", async () => {
      const { bondManager, stakedPod, alice, a, bm } = await staked(400n * S);
      const t = (await now(connection)) + 100n;
      await nextAt(connection, t);
      await bondManager.write.requestUnbond([150n * S], { account: alice.account });
      const unlocksAt = t + 90n * DAY;

      await nextAt(connection, unlocksAt - 1n);
      await viem.assertions.revertWithCustomErrorWithArgs(
        bondManager.write.withdrawUnbonded({ account: alice.account }),
        bondManager,
        "UnbondingNotElapsed",
        [a, unlocksAt],
      );
      const snap = await connection.networkHelpers.takeSnapshot();
      await nextAt(connection, unlocksAt);
      const withdrawn = bondManager.write.withdrawUnbonded({ account: alice.account });
      await viem.assertions.emitWithArgs(withdrawn, bondManager, "UnbondWithdrawn", [a, 150n * S]);
      await viem.assertions.emitWithArgs(withdrawn, stakedPod, "Transfer", [bm, a, 150n * S]);
      assert.equal(await stakedPod.read.balanceOf([a]), STAKE - 250n * S);
      assert.deepEqual(await bondManager.read.pendingUnbond([a]), [0n, 0n]);
      assert.equal(await bondManager.read.bondedShares([a]), 250n * S);
      assert.equal(await bondManager.read.activeShares([a]), 250n * S);
      await viem.assertions.revertWithCustomErrorWithArgs(
        bondManager.write.withdrawUnbonded({ account: alice.account }),
        bondManager,
        "NoPendingUnbond",
        [a],
      );

      // Long after unlocksAt it is just as withdrawable.
      await snap.restore();
      await nextAt(connection, unlocksAt + 365n * DAY);
      await viem.assertions.emitWithArgs(bondManager.write.withdrawUnbonded({ account: alice.account }), bondManager, "UnbondWithdrawn", [
        a,
        150n * S,
      ]);
    });

    it("a second request restarts the wait for the whole pending amount", async () => {
      const { bondManager, alice, a } = await staked(400n * S);
      const t1 = (await now(connection)) + 100n;
      await nextAt(connection, t1);
      await bondManager.write.requestUnbond([100n * S], { account: alice.account });
      const t2 = t1 + 30n * DAY;
      await nextAt(connection, t2);
      await bondManager.write.requestUnbond([100n * S], { account: alice.account });

      await nextAt(connection, t1 + 90n * DAY);
      await viem.assertions.revertWithCustomErrorWithArgs(
        bondManager.write.withdrawUnbonded({ account: alice.account }),
        bondManager,
        "UnbondingNotElapsed",
        [a, t2 + 90n * DAY],
      );
      await nextAt(connection, t2 + 90n * DAY);
      await viem.assertions.emitWithArgs(bondManager.write.withdrawUnbonded({ account: alice.account }), bondManager, "UnbondWithdrawn", [
        a,
        200n * S,
      ]);
    });
  });
});
