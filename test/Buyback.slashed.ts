import assert from "node:assert/strict";
import { network } from "hardhat";
import { getAddress, maxUint256, stringToHex } from "viem";
import { DAY, deployCore, POD, SHARES_PER_POD, type Core } from "./helpers/fixture.ts";
import { mineAt, minedAt, nextAt, stake } from "./helpers/unit.ts";
import { logsOf } from "./helpers/buyback.ts";

const connection = await network.create();
const { viem, networkHelpers } = connection;
const coreFixture = () => deployCore(connection);

const S = SHARES_PER_POD;
const COOLDOWN = 90n * DAY;
const WINDOW = 7n * DAY;
const REASON = stringToHex("invalid-logprobs", { size: 32 });

/**
 * Alice stakes 1,000 POD and bonds 600 sPOD; the vault then gains 500 POD of buyback revenue, so a
 * share is worth more than it cost. Slashes go through the real BondManager, called as
 * NodeReports (which holds SLASHER_ROLE), with the buyback as recipient.
 */
async function setup() {
  const core = await networkHelpers.loadFixture(coreFixture);
  const { podToken, buyback, bondManager, alice, nodeReports } = core;
  await stake(core, alice, 1000n * POD);
  await bondManager.write.bond([600n * S], { account: alice.account });
  await podToken.write.transfer([buyback.address, 1000n * POD], { account: alice.account });
  await buyback.write.buyBack([podToken.address, maxUint256]);
  const reports = getAddress(nodeReports.address);
  await networkHelpers.impersonateAccount(reports);
  await networkHelpers.setBalance(reports, 10n ** 20n);
  const slash = (shares: bigint) =>
    bondManager.write.slash([alice.account.address, shares, buyback.address, REASON], { account: reports });
  return { ...core, slash };
}

async function sharesOf(core: Core) {
  return core.stakedPod.read.balanceOf([core.buyback.address]);
}

describe("Buyback burning slashed stake", () => {
  it("has nothing to burn without sPOD (NothingToBuy)", async () => {
    const { buyback, stakedPod } = await setup();
    await viem.assertions.revertWithCustomErrorWithArgs(buyback.write.burnSlashedStake(), buyback, "NothingToBuy", [
      getAddress(stakedPod.address),
    ]);
  });

  it("cools slashed sPOD down, refuses while it cools, then redeems it and burns the POD", async () => {
    const core = await setup();
    const { buyback, stakedPod, podToken, bob, carol, slash } = core;
    await slash(100n * S);
    assert.equal(await sharesOf(core), 100n * S);

    const start = buyback.write.burnSlashedStake({ account: bob.account });
    const startedAt = await minedAt(core, await start);
    const opensAt = startedAt + COOLDOWN;
    await viem.assertions.emitWithArgs(start, buyback, "StakeBurnCooldownStarted", [100n * S, opensAt]);
    await viem.assertions.emitWithArgs(start, stakedPod, "CooldownStarted", [
      getAddress(buyback.address),
      100n * S,
      opensAt,
      opensAt + WINDOW,
    ]);

    await viem.assertions.revertWithCustomErrorWithArgs(
      buyback.write.burnSlashedStake(),
      buyback,
      "StakeBurnCoolingDown",
      [opensAt],
    );
    await nextAt(connection, opensAt - 1n);
    await viem.assertions.revertWithCustomErrorWithArgs(
      buyback.write.burnSlashedStake(),
      buyback,
      "StakeBurnCoolingDown",
      [opensAt],
    );

    await mineAt(connection, opensAt);
    const assets = await stakedPod.read.previewRedeem([100n * S]);
    assert.ok(assets > 100n * POD, "the slashed shares had gained value");
    const supply = await podToken.read.totalSupply();
    const vaultAssets = await stakedPod.read.totalAssets();
    const vaultShares = await stakedPod.read.totalSupply();
    const burn = buyback.write.burnSlashedStake({ account: carol.account });
    await viem.assertions.emitWithArgs(burn, buyback, "SlashedStakeBurned", [100n * S, assets]);
    const [withdrawn] = await logsOf(core.publicClient, await burn, stakedPod, "Withdraw");
    assert.equal(withdrawn?.args.assets, assets);
    assert.equal(await podToken.read.totalSupply(), supply - assets);
    assert.equal(await stakedPod.read.totalAssets(), vaultAssets - assets);
    assert.equal(await stakedPod.read.totalSupply(), vaultShares - 100n * S);
    assert.equal(await sharesOf(core), 0n);
    assert.equal(await podToken.read.balanceOf([buyback.address]), 0n);
    await viem.assertions.revertWithCustomErrorWithArgs(buyback.write.burnSlashedStake(), buyback, "NothingToBuy", [
      getAddress(stakedPod.address),
    ]);
  });

  it("leaves shares slashed during a cooldown for the next one, started as soon as the first is redeemed", async () => {
    const core = await setup();
    const { buyback, stakedPod, podToken, slash } = core;
    await slash(100n * S);
    const opensAt = (await minedAt(core, await buyback.write.burnSlashedStake())) + COOLDOWN;
    await slash(50n * S);
    await viem.assertions.revertWithCustomErrorWithArgs(
      buyback.write.burnSlashedStake(),
      buyback,
      "StakeBurnCoolingDown",
      [opensAt],
    );

    await mineAt(connection, opensAt + DAY);
    const assets = await stakedPod.read.previewRedeem([100n * S]);
    const supply = await podToken.read.totalSupply();
    await viem.assertions.emitWithArgs(
      buyback.write.burnSlashedStake(),
      buyback,
      "SlashedStakeBurned",
      [100n * S, assets],
    );
    assert.equal(await podToken.read.totalSupply(), supply - assets);
    assert.equal(await sharesOf(core), 50n * S);

    // The window is still open but its shares are spent: the rest starts its own cooldown.
    await nextAt(connection, opensAt + DAY + 10n);
    await viem.assertions.emitWithArgs(buyback.write.burnSlashedStake(), buyback, "StakeBurnCooldownStarted", [
      50n * S,
      opensAt + DAY + 10n + COOLDOWN,
    ]);
  });

  it("restarts the cooldown over the whole balance when the unstake window was missed", async () => {
    const core = await setup();
    const { buyback, stakedPod, slash } = core;
    await slash(100n * S);
    const opensAt = (await minedAt(core, await buyback.write.burnSlashedStake())) + COOLDOWN;
    await slash(20n * S);
    const closesAt = opensAt + WINDOW;
    await nextAt(connection, closesAt);
    const restart = buyback.write.burnSlashedStake();
    await viem.assertions.emitWithArgs(restart, buyback, "StakeBurnCooldownStarted", [120n * S, closesAt + COOLDOWN]);
    assert.deepEqual(await stakedPod.read.cooldownOf([buyback.address]), {
      shares: 120n * S,
      opensAt: closesAt + COOLDOWN,
      closesAt: closesAt + COOLDOWN + WINDOW,
    });
    await mineAt(connection, closesAt + COOLDOWN);
    const assets = await stakedPod.read.previewRedeem([120n * S]);
    await viem.assertions.emitWithArgs(
      buyback.write.burnSlashedStake(),
      buyback,
      "SlashedStakeBurned",
      [120n * S, assets],
    );
  });
});
