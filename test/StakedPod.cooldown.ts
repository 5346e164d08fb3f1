import assert from "node:assert/strict";
import { network } from "hardhat";
import { getAddress } from "viem";
import { DAY, deployCore, now, paramName, POD, SHARES_PER_POD } from "./helpers/fixture.ts";
import { actAsTimelock, eventsIn, mineAt, nextAt, stake, vaultRate, type Wallet } from "./helpers/unit.ts";
import type { Core } from "./helpers/fixture.ts";

const connection = await network.create();
const coreFixture = () => deployCore(connection);
const { viem } = connection;

const STAKE = 1000n * SHARES_PER_POD; // alice's shares after staking 1000 POD
const COOLED = 400n * SHARES_PER_POD; // what she cools, unless a test says otherwise

/** Alice stakes 1000 POD and cools `cooled` shares at exactly `t0`. */
async function cooling(cooled = COOLED) {
  const core = await connection.networkHelpers.loadFixture(coreFixture);
  await stake(core, core.alice, 1000n * POD);
  const t0 = (await now(connection)) + 100n;
  await nextAt(connection, t0);
  await core.stakedPod.write.cooldown([cooled], { account: core.alice.account });
  const opensAt = t0 + 90n * DAY;
  const closesAt = opensAt + 7n * DAY;
  return { ...core, a: getAddress(core.alice.account.address), b: getAddress(core.bob.account.address), t0, opensAt, closesAt };
}

/** Reads `read` in a block mined at exactly `ts`, then rewinds so a transaction can still mine at `ts`. */
async function viewAt<T>(ts: bigint, read: () => Promise<T>): Promise<T> {
  const snap = await connection.networkHelpers.takeSnapshot();
  await mineAt(connection, ts);
  const value = await read();
  await snap.restore();
  return value;
}

const maxes = (core: Core, owner: Wallet) =>
  Promise.all([core.stakedPod.read.maxRedeem([owner.account.address]), core.stakedPod.read.maxWithdraw([owner.account.address])]);

describe("StakedPod cooldown", () => {
  describe("cooldown", () => {
    it("rejects zero shares and more than the balance", async () => {
      const core = await connection.networkHelpers.loadFixture(coreFixture);
      const { stakedPod, alice, bob } = core;
      await stake(core, alice, 1000n * POD);
      await viem.assertions.revertWithCustomError(stakedPod.write.cooldown([0n], { account: alice.account }), stakedPod, "ZeroShares");
      await viem.assertions.revertWithCustomErrorWithArgs(
        stakedPod.write.cooldown([STAKE + 1n], { account: alice.account }),
        stakedPod,
        "CooldownExceedsBalance",
        [getAddress(alice.account.address), STAKE + 1n, STAKE],
      );
      await viem.assertions.revertWithCustomErrorWithArgs(
        stakedPod.write.cooldown([1n], { account: bob.account }),
        stakedPod,
        "CooldownExceedsBalance",
        [getAddress(bob.account.address), 1n, 0n],
      );
    });

    it("snapshots the amount with a window [t + stakeCooldown, + unstakeWindow); a new call restarts it", async () => {
      const core = await connection.networkHelpers.loadFixture(coreFixture);
      const { stakedPod, protocolParams, alice } = core;
      const a = getAddress(alice.account.address);
      await stake(core, alice, 1000n * POD);
      const t0 = (await now(connection)) + 50n;
      await nextAt(connection, t0);
      await viem.assertions.emitWithArgs(stakedPod.write.cooldown([COOLED], { account: alice.account }), stakedPod, "CooldownStarted", [
        a,
        COOLED,
        t0 + 90n * DAY,
        t0 + 97n * DAY,
      ]);
      assert.deepEqual(await stakedPod.read.cooldownOf([a]), { shares: COOLED, opensAt: t0 + 90n * DAY, closesAt: t0 + 97n * DAY });

      // Governance shortens both periods; the next cooldown uses the new values and replaces the old one.
      const timelock = await actAsTimelock(connection, core);
      await protocolParams.write.setParameters([[paramName("stakeCooldown"), paramName("unstakeWindow")], [30n * DAY, DAY]], {
        account: timelock,
      });
      const t1 = t0 + 10n * DAY;
      await nextAt(connection, t1);
      await viem.assertions.emitWithArgs(stakedPod.write.cooldown([STAKE], { account: alice.account }), stakedPod, "CooldownStarted", [
        a,
        STAKE,
        t1 + 30n * DAY,
        t1 + 31n * DAY,
      ]);
      assert.deepEqual(await stakedPod.read.cooldownOf([a]), { shares: STAKE, opensAt: t1 + 30n * DAY, closesAt: t1 + 31n * DAY });
    });
  });

  describe("the unstake window", () => {
    it("redeem and withdraw revert CooldownNotStarted(owner) without a cooldown", async () => {
      const core = await connection.networkHelpers.loadFixture(coreFixture);
      const { stakedPod, alice } = core;
      const a = getAddress(alice.account.address);
      await stake(core, alice, 1000n * POD);
      await viem.assertions.revertWithCustomErrorWithArgs(
        stakedPod.write.redeem([1n, a, a], { account: alice.account }),
        stakedPod,
        "CooldownNotStarted",
        [a],
      );
      await viem.assertions.revertWithCustomErrorWithArgs(
        stakedPod.write.withdraw([1n, a, a], { account: alice.account }),
        stakedPod,
        "CooldownNotStarted",
        [a],
      );
      assert.deepEqual(await maxes(core, alice), [0n, 0n]);
    });

    it("one second before it opens: CooldownNotElapsed(owner, opensAt), maxRedeem = maxWithdraw = 0", async () => {
      const core = await cooling();
      const { stakedPod, alice, a, opensAt } = core;
      assert.deepEqual(await viewAt(opensAt - 1n, () => maxes(core, alice)), [0n, 0n]);
      await nextAt(connection, opensAt - 1n);
      await viem.assertions.revertWithCustomErrorWithArgs(
        stakedPod.write.redeem([1n, a, a], { account: alice.account }),
        stakedPod,
        "CooldownNotElapsed",
        [a, opensAt],
      );
      await nextAt(connection, opensAt - 1n);
      await viem.assertions.revertWithCustomErrorWithArgs(
        stakedPod.write.withdraw([1n, a, a], { account: alice.account }),
        stakedPod,
        "CooldownNotElapsed",
        [a, opensAt],
      );
    });

    it("at opensAt: redeem pays out (Withdraw) and shrinks the cooldown (CooldownReduced)", async () => {
      const core = await cooling();
      const { stakedPod, podToken, alice, a, opensAt } = core;
      assert.deepEqual(await viewAt(opensAt, () => maxes(core, alice)), [COOLED, 400n * POD]);
      const podBefore = await podToken.read.balanceOf([a]);
      await nextAt(connection, opensAt);
      const redeemed = stakedPod.write.redeem([150n * SHARES_PER_POD, a, a], { account: alice.account });
      await viem.assertions.emitWithArgs(redeemed, stakedPod, "Withdraw", [a, a, a, 150n * POD, 150n * SHARES_PER_POD]);
      await viem.assertions.emitWithArgs(redeemed, stakedPod, "CooldownReduced", [a, 250n * SHARES_PER_POD]);
      assert.equal(await podToken.read.balanceOf([a]), podBefore + 150n * POD);
      assert.equal(await stakedPod.read.balanceOf([a]), STAKE - 150n * SHARES_PER_POD);
      assert.equal((await stakedPod.read.cooldownOf([a])).shares, 250n * SHARES_PER_POD);
      assert.deepEqual(await maxes(core, alice), [250n * SHARES_PER_POD, 250n * POD]);
    });

    it("at closesAt - 1: still open; redeeming the whole cooled amount ends the cooldown", async () => {
      const core = await cooling();
      const { stakedPod, alice, a, closesAt } = core;
      assert.deepEqual(await viewAt(closesAt - 1n, () => maxes(core, alice)), [COOLED, 400n * POD]);
      await nextAt(connection, closesAt - 1n);
      const redeemed = stakedPod.write.redeem([COOLED, a, a], { account: alice.account });
      await viem.assertions.emitWithArgs(redeemed, stakedPod, "Withdraw", [a, a, a, 400n * POD, COOLED]);
      await viem.assertions.emitWithArgs(redeemed, stakedPod, "CooldownReduced", [a, 0n]);
      await viem.assertions.revertWithCustomErrorWithArgs(
        stakedPod.write.redeem([1n, a, a], { account: alice.account }),
        stakedPod,
        "CooldownNotStarted",
        [a],
      );
    });

    it("at closesAt and after: UnstakeWindowClosed(owner, closesAt), maxRedeem = maxWithdraw = 0", async () => {
      const core = await cooling();
      const { stakedPod, alice, a, closesAt } = core;
      assert.deepEqual(await viewAt(closesAt, () => maxes(core, alice)), [0n, 0n]);
      for (const ts of [closesAt, closesAt + 1n, closesAt + 90n * DAY]) {
        await nextAt(connection, ts);
        await viem.assertions.revertWithCustomErrorWithArgs(
          stakedPod.write.redeem([1n, a, a], { account: alice.account }),
          stakedPod,
          "UnstakeWindowClosed",
          [a, closesAt],
        );
        await nextAt(connection, ts);
        await viem.assertions.revertWithCustomErrorWithArgs(
          stakedPod.write.withdraw([1n, a, a], { account: alice.account }),
          stakedPod,
          "UnstakeWindowClosed",
          [a, closesAt],
        );
        await mineAt(connection, ts);
        assert.deepEqual(await maxes(core, alice), [0n, 0n]);
      }
    });

    it("withdraw at closesAt - 1 burns previewWithdraw shares and pays the receiver", async () => {
      const core = await cooling();
      const { stakedPod, podToken, alice, a, b, closesAt } = core;
      const bobBefore = await podToken.read.balanceOf([b]);
      assert.equal(await stakedPod.read.previewWithdraw([100n * POD]), 100n * SHARES_PER_POD);
      await nextAt(connection, closesAt - 1n);
      const withdrawn = stakedPod.write.withdraw([100n * POD, b, a], { account: alice.account });
      await viem.assertions.emitWithArgs(withdrawn, stakedPod, "Withdraw", [a, b, a, 100n * POD, 100n * SHARES_PER_POD]);
      await viem.assertions.emitWithArgs(withdrawn, stakedPod, "CooldownReduced", [a, 300n * SHARES_PER_POD]);
      assert.equal(await podToken.read.balanceOf([b]), bobBefore + 100n * POD);
    });

    it("inside the window, more than the cooled amount reverts ERC4626ExceededMaxRedeem / MaxWithdraw", async () => {
      const core = await cooling();
      const { stakedPod, alice, a, opensAt } = core;
      await mineAt(connection, opensAt);
      await viem.assertions.revertWithCustomErrorWithArgs(
        stakedPod.write.redeem([COOLED + 1n, a, a], { account: alice.account }),
        stakedPod,
        "ERC4626ExceededMaxRedeem",
        [a, COOLED + 1n, COOLED],
      );
      await viem.assertions.revertWithCustomErrorWithArgs(
        stakedPod.write.withdraw([400n * POD + 1n, a, a], { account: alice.account }),
        stakedPod,
        "ERC4626ExceededMaxWithdraw",
        [a, 400n * POD + 1n, 400n * POD],
      );
    });

    it("a redeem that moves the rate records it (ExchangeRateCheckpointed)", async () => {
      const core = await cooling();
      const { stakedPod, podToken, alice, bob, a, opensAt } = core;
      await podToken.write.transfer([stakedPod.address, 333n * POD], { account: bob.account });
      await nextAt(connection, opensAt);
      const hash = await stakedPod.write.redeem([COOLED, a, a], { account: alice.account });
      const rate = await vaultRate(core);
      const [record] = await eventsIn(core, hash, stakedPod, "ExchangeRateCheckpointed");
      assert.deepEqual(record?.args, { timepoint: opensAt, rateRay: rate });
      assert.equal(await stakedPod.read.rateAt([opensAt]), rate);
    });

    it("an approved spender redeems for the owner in the owner's window only", async () => {
      const core = await cooling();
      const { stakedPod, podToken, alice, bob, carol, a, b, opensAt } = core;
      const c = getAddress(carol.account.address);
      await stakedPod.write.approve([b, COOLED], { account: alice.account });
      await nextAt(connection, opensAt - 1n);
      await viem.assertions.revertWithCustomErrorWithArgs(
        stakedPod.write.redeem([COOLED, b, a], { account: bob.account }),
        stakedPod,
        "CooldownNotElapsed",
        [a, opensAt],
      );
      await mineAt(connection, opensAt);
      await viem.assertions.revertWithCustomErrorWithArgs(
        stakedPod.write.redeem([SHARES_PER_POD, c, a], { account: carol.account }),
        stakedPod,
        "ERC20InsufficientAllowance",
        [c, 0n, SHARES_PER_POD],
      );
      const bobBefore = await podToken.read.balanceOf([b]);
      const redeemed = stakedPod.write.redeem([COOLED, b, a], { account: bob.account });
      await viem.assertions.emitWithArgs(redeemed, stakedPod, "Withdraw", [b, b, a, 400n * POD, COOLED]);
      await viem.assertions.emitWithArgs(redeemed, stakedPod, "CooldownReduced", [a, 0n]);
      assert.equal(await podToken.read.balanceOf([b]), bobBefore + 400n * POD);
      assert.equal(await stakedPod.read.allowance([a, b]), 0n);
      assert.equal(await stakedPod.read.balanceOf([a]), STAKE - COOLED);
    });
  });

  describe("transfers cannot dodge the cooldown", () => {
    it("sending every share away zeroes the cooldown; shares received later stay locked", async () => {
      const core = await cooling(STAKE);
      const { stakedPod, alice, bob, a, b, opensAt } = core;
      await viem.assertions.emitWithArgs(
        stakedPod.write.transfer([b, STAKE], { account: alice.account }),
        stakedPod,
        "CooldownReduced",
        [a, 0n],
      );
      assert.equal((await stakedPod.read.cooldownOf([a])).shares, 0n);
      await stakedPod.write.transfer([a, STAKE], { account: bob.account });
      await mineAt(connection, opensAt);
      assert.deepEqual(await maxes(core, alice), [0n, 0n]);
      await viem.assertions.revertWithCustomErrorWithArgs(
        stakedPod.write.redeem([1n, a, a], { account: alice.account }),
        stakedPod,
        "CooldownNotStarted",
        [a],
      );
    });

    it("a receiver without a cooldown cannot redeem in the sender's window", async () => {
      const core = await cooling();
      const { stakedPod, alice, bob, a, b, opensAt } = core;
      // Alice keeps more than she cooled: no cap, no event.
      const hash = await stakedPod.write.transfer([b, 300n * SHARES_PER_POD], { account: alice.account });
      assert.equal((await eventsIn(core, hash, stakedPod, "CooldownReduced")).length, 0);
      await mineAt(connection, opensAt);
      assert.deepEqual(await maxes(core, bob), [0n, 0n]);
      await viem.assertions.revertWithCustomErrorWithArgs(
        stakedPod.write.redeem([1n, b, b], { account: bob.account }),
        stakedPod,
        "CooldownNotStarted",
        [b],
      );
      assert.equal(await stakedPod.read.maxRedeem([a]), COOLED);
    });

    it("a partial transfer caps the cooled amount to what remains, for good", async () => {
      const core = await cooling(STAKE);
      const { stakedPod, alice, bob, a, b, opensAt } = core;
      const kept = 400n * SHARES_PER_POD;
      await viem.assertions.emitWithArgs(
        stakedPod.write.transfer([b, STAKE - kept], { account: alice.account }),
        stakedPod,
        "CooldownReduced",
        [a, kept],
      );
      await stakedPod.write.transfer([a, STAKE - kept], { account: bob.account });
      await mineAt(connection, opensAt);
      assert.equal(await stakedPod.read.balanceOf([a]), STAKE);
      assert.equal(await stakedPod.read.maxRedeem([a]), kept);
      await viem.assertions.revertWithCustomErrorWithArgs(
        stakedPod.write.redeem([kept + 1n, a, a], { account: alice.account }),
        stakedPod,
        "ERC4626ExceededMaxRedeem",
        [a, kept + 1n, kept],
      );
      await viem.assertions.emitWithArgs(stakedPod.write.redeem([kept, a, a], { account: alice.account }), stakedPod, "CooldownReduced", [
        a,
        0n,
      ]);
    });

    it("a spender's transferFrom caps the owner's cooldown too", async () => {
      const core = await cooling(STAKE);
      const { stakedPod, alice, carol, a } = core;
      const c = getAddress(carol.account.address);
      await stakedPod.write.approve([c, STAKE], { account: alice.account });
      await viem.assertions.emitWithArgs(
        stakedPod.write.transferFrom([a, c, STAKE - 1n], { account: carol.account }),
        stakedPod,
        "CooldownReduced",
        [a, 1n],
      );
      assert.equal((await stakedPod.read.cooldownOf([a])).shares, 1n);
    });
  });

  describe("cancelCooldown", () => {
    it("reverts CooldownNotStarted(caller) when there is none", async () => {
      const core = await connection.networkHelpers.loadFixture(coreFixture);
      const { stakedPod, alice } = core;
      await viem.assertions.revertWithCustomErrorWithArgs(
        stakedPod.write.cancelCooldown({ account: alice.account }),
        stakedPod,
        "CooldownNotStarted",
        [getAddress(alice.account.address)],
      );
    });

    it("clears the cooldown (CooldownCancelled); the window then stays shut", async () => {
      const core = await cooling();
      const { stakedPod, alice, a, opensAt } = core;
      await viem.assertions.emitWithArgs(stakedPod.write.cancelCooldown({ account: alice.account }), stakedPod, "CooldownCancelled", [a]);
      assert.deepEqual(await stakedPod.read.cooldownOf([a]), { shares: 0n, opensAt: 0n, closesAt: 0n });
      await viem.assertions.revertWithCustomErrorWithArgs(
        stakedPod.write.cancelCooldown({ account: alice.account }),
        stakedPod,
        "CooldownNotStarted",
        [a],
      );
      await mineAt(connection, opensAt);
      assert.deepEqual(await maxes(core, alice), [0n, 0n]);
      await viem.assertions.revertWithCustomErrorWithArgs(
        stakedPod.write.redeem([1n, a, a], { account: alice.account }),
        stakedPod,
        "CooldownNotStarted",
        [a],
      );
    });
  });
});
