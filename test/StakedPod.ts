import assert from "node:assert/strict";
import { network } from "hardhat";
import { getAddress, maxUint256, zeroAddress } from "viem";
import { DAY, deployCore, now, POD, SHARES_PER_POD } from "./helpers/fixture.ts";
import {
  actAsTimelock,
  EMPTY_VAULT_RATE,
  eventsIn,
  mineAt,
  minedAt,
  nextAt,
  RATE_SCALE,
  stake,
  VIRTUAL_SHARES,
  vaultRate,
} from "./helpers/unit.ts";

const connection = await network.create();
const coreFixture = () => deployCore(connection);
const { viem } = connection;

const setup = () => connection.networkHelpers.loadFixture(coreFixture);

describe("StakedPod", () => {
  describe("deposit and mint", () => {
    it("is an 18+6-decimal ERC-4626 vault over POD named Staked POD (sPOD)", async () => {
      const { stakedPod, podToken, alice } = await setup();
      assert.equal(await stakedPod.read.name(), "Staked POD");
      assert.equal(await stakedPod.read.symbol(), "sPOD");
      assert.equal(await stakedPod.read.decimals(), 24);
      assert.equal(getAddress(await stakedPod.read.asset()), getAddress(podToken.address));
      assert.equal(await stakedPod.read.totalAssets(), 0n);
      assert.equal(await stakedPod.read.maxDeposit([alice.account.address]), maxUint256);
      assert.equal(await stakedPod.read.previewDeposit([POD]), SHARES_PER_POD);
    });

    it("deposit mints SHARES_PER_POD per POD in an empty vault and emits Deposit", async () => {
      const core = await setup();
      const { stakedPod, podToken, alice, bob } = core;
      const a = getAddress(alice.account.address);
      const b = getAddress(bob.account.address);
      await podToken.write.approve([stakedPod.address, 3000n * POD], { account: alice.account });
      const deposited = stakedPod.write.deposit([1000n * POD, a], { account: alice.account });
      await viem.assertions.emitWithArgs(deposited, stakedPod, "Deposit", [a, a, 1000n * POD, 1000n * SHARES_PER_POD]);
      await viem.assertions.emitWithArgs(
        stakedPod.write.deposit([2000n * POD, b], { account: alice.account }),
        stakedPod,
        "Deposit",
        [a, b, 2000n * POD, 2000n * SHARES_PER_POD],
      );
      assert.equal(await stakedPod.read.balanceOf([a]), 1000n * SHARES_PER_POD);
      assert.equal(await stakedPod.read.balanceOf([b]), 2000n * SHARES_PER_POD);
      assert.equal(await stakedPod.read.totalAssets(), 3000n * POD);
      assert.equal(await podToken.read.balanceOf([a]), 997_000n * POD);
      assert.equal(await stakedPod.read.convertToAssets([1000n * SHARES_PER_POD]), 1000n * POD);
    });

    it("mint pulls previewMint assets and emits Deposit", async () => {
      const { stakedPod, podToken, alice } = await setup();
      const a = getAddress(alice.account.address);
      await podToken.write.approve([stakedPod.address, 10n * POD], { account: alice.account });
      assert.equal(await stakedPod.read.previewMint([5n * SHARES_PER_POD]), 5n * POD);
      await viem.assertions.emitWithArgs(
        stakedPod.write.mint([5n * SHARES_PER_POD, a], { account: alice.account }),
        stakedPod,
        "Deposit",
        [a, a, 5n * POD, 5n * SHARES_PER_POD],
      );
      assert.equal(await podToken.read.allowance([a, stakedPod.address]), 5n * POD);
      // One share more than the first round costs one more wei (rounded up, in the vault's favour).
      await viem.assertions.emitWithArgs(stakedPod.write.mint([1n, a], { account: alice.account }), stakedPod, "Deposit", [a, a, 1n, 1n]);
    });

    it("reverts a deposit without allowance or balance with POD's errors", async () => {
      const { stakedPod, podToken, alice } = await setup();
      const a = getAddress(alice.account.address);
      const vault = getAddress(stakedPod.address);
      await viem.assertions.revertWithCustomErrorWithArgs(
        stakedPod.write.deposit([POD, a], { account: alice.account }),
        podToken,
        "ERC20InsufficientAllowance",
        [vault, 0n, POD],
      );
      const tooMuch = 1_000_001n * POD;
      await podToken.write.approve([vault, tooMuch], { account: alice.account });
      await viem.assertions.revertWithCustomErrorWithArgs(
        stakedPod.write.deposit([tooMuch, a], { account: alice.account }),
        podToken,
        "ERC20InsufficientBalance",
        [a, 1_000_000n * POD, tooMuch],
      );
    });
  });

  describe("auto-compounding", () => {
    it("POD sent to the vault raises what every share is worth", async () => {
      const core = await setup();
      const { stakedPod, podToken, alice, bob, carol, dave } = core;
      const aliceShares = await stake(core, alice, 1000n * POD);
      const bobShares = await stake(core, bob, 3000n * POD);
      await podToken.write.transfer([stakedPod.address, 400n * POD], { account: carol.account });

      const assets = 4400n * POD;
      const supply = aliceShares + bobShares;
      assert.equal(await stakedPod.read.totalAssets(), assets);
      const aliceValue = (aliceShares * (assets + 1n)) / (supply + VIRTUAL_SHARES);
      assert.equal(await stakedPod.read.convertToAssets([aliceShares]), aliceValue);
      assert.equal(await stakedPod.read.previewRedeem([aliceShares]), aliceValue);
      assert.ok(1100n * POD - aliceValue <= 1n, "alice earned a quarter of the 400 POD");
      const bobValue = await stakedPod.read.convertToAssets([bobShares]);
      assert.ok(3300n * POD - bobValue <= 1n);

      // A later depositor buys in at the new price: 1100 POD buys what alice's 1000 bought.
      const daveShares = await stake(core, dave, 1100n * POD);
      assert.equal(daveShares, (1100n * POD * (supply + VIRTUAL_SHARES)) / (assets + 1n));
      assert.ok(aliceShares - daveShares <= SHARES_PER_POD / POD, "within one wei's worth of shares");
    });

    it("defeats the first-depositor inflation attack", async () => {
      const core = await setup();
      const { stakedPod, podToken, carol: attacker, dave: victim } = core;
      const atk = getAddress(attacker.account.address);
      const vic = getAddress(victim.account.address);
      const attackerStart = await podToken.read.balanceOf([atk]);
      const victimStart = await podToken.read.balanceOf([vic]);

      const attackerShares = await stake(core, attacker, 1n);
      assert.equal(attackerShares, VIRTUAL_SHARES);
      await podToken.write.transfer([stakedPod.address, 100_000n * POD], { account: attacker.account });
      const victimShares = await stake(core, victim, 1000n * POD);
      assert.ok(victimShares > 0n);

      const victimValue = await stakedPod.read.previewRedeem([victimShares]);
      const loss = 1000n * POD - victimValue;
      assert.ok(loss * 10_000n < 1000n * POD, `victim loses under 0.01% (lost ${loss} wei)`);

      // Both leave through the cooldown and the window; the attacker ends far behind.
      await stakedPod.write.cooldown([attackerShares], { account: attacker.account });
      await stakedPod.write.cooldown([victimShares], { account: victim.account });
      const { opensAt } = await stakedPod.read.cooldownOf([vic]);
      await mineAt(connection, opensAt);
      await stakedPod.write.redeem([attackerShares, atk, atk], { account: attacker.account });
      await stakedPod.write.redeem([victimShares, vic, vic], { account: victim.account });

      const attackerEnd = await podToken.read.balanceOf([atk]);
      const victimEnd = await podToken.read.balanceOf([vic]);
      assert.ok(attackerEnd < attackerStart, "the attack costs the attacker POD");
      assert.ok(attackerStart - attackerEnd > 40_000n * POD, "most of the donation stays with the victim's shares");
      assert.ok((victimStart - victimEnd) * 10_000n < 1000n * POD, "the victim gets back all but < 0.01%");
      assert.equal(await stakedPod.read.totalSupply(), 0n);
    });
  });

  describe("exchange-rate checkpoints", () => {
    it("records the empty vault's rate at deployment and reads it before any record", async () => {
      const { stakedPod, publicClient } = await setup();
      const records = await publicClient.getContractEvents({
        address: stakedPod.address,
        abi: stakedPod.abi,
        eventName: "ExchangeRateCheckpointed",
        fromBlock: 0n,
      });
      assert.equal(records.length, 1);
      const deployedAt = (await publicClient.getBlock({ blockNumber: records[0]!.blockNumber })).timestamp;
      assert.deepEqual(records[0]!.args, { timepoint: deployedAt, rateRay: EMPTY_VAULT_RATE });
      assert.equal(await stakedPod.read.rateAt([deployedAt]), EMPTY_VAULT_RATE);
      assert.equal(await stakedPod.read.rateAt([deployedAt - 1n]), EMPTY_VAULT_RATE);
      assert.equal(await stakedPod.read.rateAt([0n]), EMPTY_VAULT_RATE);
      assert.equal(await stakedPod.read.rateAt([await now(connection)]), EMPTY_VAULT_RATE);
    });

    it("checkpointRate records only a changed rate, and rateAt keeps the past", async () => {
      const core = await setup();
      const { stakedPod, podToken, alice, bob } = core;
      const shares = await stake(core, alice, 1000n * POD);
      // A deposit into an empty vault keeps the virtual rate: nothing to record.
      const unchanged = await stakedPod.write.checkpointRate({ account: bob.account });
      assert.equal((await eventsIn(core, unchanged, stakedPod, "ExchangeRateCheckpointed")).length, 0);
      const t0 = await minedAt(core, unchanged);

      await podToken.write.transfer([stakedPod.address, 500n * POD], { account: bob.account });
      const rate = await vaultRate(core);
      assert.equal(rate, ((1500n * POD + 1n) * RATE_SCALE) / (shares + VIRTUAL_SHARES));
      assert.ok(rate > EMPTY_VAULT_RATE);
      // Donated but not yet recorded: the recorded rate is still the old one.
      assert.equal(await stakedPod.read.rateAt([await now(connection)]), EMPTY_VAULT_RATE);

      const t1 = (await now(connection)) + 10n;
      await nextAt(connection, t1);
      await viem.assertions.emitWithArgs(stakedPod.write.checkpointRate({ account: bob.account }), stakedPod, "ExchangeRateCheckpointed", [
        t1,
        rate,
      ]);
      const again = await stakedPod.write.checkpointRate({ account: bob.account });
      assert.equal((await eventsIn(core, again, stakedPod, "ExchangeRateCheckpointed")).length, 0);

      assert.equal(await stakedPod.read.rateAt([t0]), EMPTY_VAULT_RATE);
      assert.equal(await stakedPod.read.rateAt([t1 - 1n]), EMPTY_VAULT_RATE);
      assert.equal(await stakedPod.read.rateAt([t1]), rate);
      const latest = await now(connection);
      assert.equal(await stakedPod.read.rateAt([latest]), rate);
      await viem.assertions.revertWithCustomErrorWithArgs(stakedPod.read.rateAt([latest + 1n]), stakedPod, "FutureLookup", [
        latest + 1n,
        latest,
      ]);
    });
  });

  describe("votes", () => {
    it("counts delegated sPOD shares as votes, on a timestamp clock", async () => {
      const core = await setup();
      const { stakedPod, podToken, alice, bob } = core;
      const a = getAddress(alice.account.address);
      const b = getAddress(bob.account.address);
      assert.equal(await stakedPod.read.CLOCK_MODE(), "mode=timestamp");
      assert.equal(BigInt(await stakedPod.read.clock()), await now(connection));

      await podToken.write.approve([stakedPod.address, 1000n * POD], { account: alice.account });
      const deposit = await stakedPod.write.deposit([1000n * POD, a], { account: alice.account });
      const shares = 1000n * SHARES_PER_POD;
      const writes = await eventsIn(core, deposit, stakedPod, "DelegateVotesChanged");
      assert.equal(writes.length, 0, "an undelegated deposit writes no vote checkpoint");
      assert.equal(await stakedPod.read.getVotes([a]), 0n);

      const delegated = stakedPod.write.delegate([a], { account: alice.account });
      await viem.assertions.emitWithArgs(delegated, stakedPod, "DelegateChanged", [a, zeroAddress, a]);
      await viem.assertions.emitWithArgs(delegated, stakedPod, "DelegateVotesChanged", [a, 0n, shares]);
      const tDelegated = await minedAt(core, await delegated);
      assert.equal(await stakedPod.read.getVotes([a]), shares);

      // More deposits and transfers follow the delegate.
      const more = await stake(core, alice, 500n * POD);
      const tMore = await now(connection);
      assert.equal(await stakedPod.read.getVotes([a]), shares + more);
      await stakedPod.write.delegate([b], { account: bob.account });
      const moved = stakedPod.write.transfer([b, more], { account: alice.account });
      await viem.assertions.emitWithArgs(moved, stakedPod, "DelegateVotesChanged", [b, 0n, more]);
      await viem.assertions.emitWithArgs(moved, stakedPod, "DelegateVotesChanged", [a, shares + more, shares]);
      const tMoved = await minedAt(core, await moved);
      assert.equal(await stakedPod.read.getVotes([a]), shares);
      assert.equal(await stakedPod.read.getVotes([b]), more);

      // Past lookups: the latest checkpoint and the ones before it.
      await mineAt(connection, tMoved + 1n);
      assert.equal(await stakedPod.read.getPastVotes([a, tDelegated - 1n]), 0n);
      assert.equal(await stakedPod.read.getPastVotes([a, tDelegated]), shares);
      assert.equal(await stakedPod.read.getPastVotes([a, tMore - 1n]), shares);
      assert.equal(await stakedPod.read.getPastVotes([a, tMore]), shares + more);
      assert.equal(await stakedPod.read.getPastVotes([a, tMoved - 1n]), shares + more);
      assert.equal(await stakedPod.read.getPastVotes([a, tMoved]), shares);
      assert.equal(await stakedPod.read.getPastVotes([b, tMoved - 1n]), 0n);
      assert.equal(await stakedPod.read.getPastVotes([b, tMoved]), more);
    });

    it("getPastVotesInAssets converts past share votes at that time's recorded rate", async () => {
      const core = await setup();
      const { stakedPod, podToken, alice, bob } = core;
      const a = getAddress(alice.account.address);
      await stakedPod.write.delegate([a], { account: alice.account });
      const shares = await stake(core, alice, 1000n * POD);
      const t1 = await now(connection);

      await podToken.write.transfer([stakedPod.address, 250n * POD], { account: bob.account });
      const checkpoint = await stakedPod.write.checkpointRate({ account: bob.account });
      const t2 = await minedAt(core, checkpoint);
      const rate2 = await vaultRate(core);
      await mineAt(connection, t2 + 1n);

      assert.equal(await stakedPod.read.getPastVotes([a, t1]), shares);
      assert.equal(await stakedPod.read.getPastVotesInAssets([a, t1]), (shares * EMPTY_VAULT_RATE) / RATE_SCALE);
      assert.equal(await stakedPod.read.getPastVotesInAssets([a, t1]), 1000n * POD);
      assert.equal(await stakedPod.read.getPastVotesInAssets([a, t2]), (shares * rate2) / RATE_SCALE);
      assert.ok(1250n * POD - (await stakedPod.read.getPastVotesInAssets([a, t2])) <= 1n);
      assert.equal(await stakedPod.read.getPastVotesInAssets([a, t1 - 1n]), 0n);

      const latest = await now(connection);
      await viem.assertions.revertWithCustomErrorWithArgs(
        stakedPod.read.getPastVotesInAssets([a, latest]),
        stakedPod,
        "ERC5805FutureLookup",
        [latest, Number(latest)],
      );
    });

    it("staking right after POD reached the vault unrecorded does not cost the holder governance votes", async () => {
      // Issue 2: "staking or bonding never costs a holder a vote". The governor values sPOD votes at
      // the recorded rate (rateAt), but a deposit buys shares at the live rate and does not record it.
      const core = await setup();
      const { stakedPod, podToken, governor, alice, bob, carol } = core;
      const a = getAddress(alice.account.address);
      await stake(core, bob, 1000n * POD);
      await podToken.write.transfer([stakedPod.address, 100n * POD], { account: carol.account }); // yield, not yet recorded
      await podToken.write.delegate([a], { account: alice.account });
      await stakedPod.write.delegate([a], { account: alice.account });
      const before = await now(connection);
      await mineAt(connection, before + 1n);
      const votesBefore = await governor.read.getVotes([a, before]);
      assert.equal(votesBefore, 1_000_000n * POD);

      const deposit = 1100n * POD;
      await stake(core, alice, deposit);
      const after = await now(connection);
      await mineAt(connection, after + 1n);
      const votesAfter = await governor.read.getVotes([a, after]);
      const lost = votesBefore - votesAfter;
      assert.ok(lost * 1_000_000_000n <= deposit, `staking ${deposit} wei of POD cost ${lost} wei of votes`);
    });

    it("does not track total votes: getPastTotalSupply reverts TotalVotesNotTracked", async () => {
      const { stakedPod } = await setup();
      await viem.assertions.revertWithCustomError(stakedPod.read.getPastTotalSupply([0n]), stakedPod, "TotalVotesNotTracked");
      await viem.assertions.revertWithCustomError(
        stakedPod.read.getPastTotalSupply([(await now(connection)) - DAY]),
        stakedPod,
        "TotalVotesNotTracked",
      );
    });
  });

  describe("owner and bond-manager hooks", () => {
    it("is owned by the timelock and wired to the bond manager once (BondManagerSet)", async () => {
      const core = await setup();
      const { stakedPod, bondManager, publicClient } = core;
      const timelock = await actAsTimelock(connection, core);
      assert.equal(getAddress(await stakedPod.read.owner()), timelock);
      const wired = await publicClient.getContractEvents({
        address: stakedPod.address,
        abi: stakedPod.abi,
        eventName: "BondManagerSet",
        fromBlock: 0n,
      });
      assert.equal(wired.length, 1);
      assert.equal(getAddress(wired[0]!.args.bondManager!), getAddress(bondManager.address));
    });

    it("setBondManager: OwnableUnauthorizedAccount for others, BondManagerAlreadySet for the timelock", async () => {
      const core = await setup();
      const { stakedPod, bondManager, alice, deployer } = core;
      const timelock = await actAsTimelock(connection, core);
      const current = getAddress(bondManager.address);
      for (const caller of [alice, deployer]) {
        await viem.assertions.revertWithCustomErrorWithArgs(
          stakedPod.write.setBondManager([caller.account.address], { account: caller.account }),
          stakedPod,
          "OwnableUnauthorizedAccount",
          [getAddress(caller.account.address)],
        );
      }
      await viem.assertions.revertWithCustomErrorWithArgs(
        stakedPod.write.setBondManager([alice.account.address], { account: timelock }),
        stakedPod,
        "BondManagerAlreadySet",
        [current],
      );
      await viem.assertions.revertWithCustomErrorWithArgs(
        stakedPod.write.setBondManager([zeroAddress], { account: timelock }),
        stakedPod,
        "BondManagerAlreadySet",
        [current],
      );
      assert.equal(getAddress(await stakedPod.read.bondManager()), current);
    });

    it("lockFor and unlockTo revert CallerNotBondManager(caller) for anyone but the bond manager", async () => {
      const core = await setup();
      const { stakedPod, alice, bob } = core;
      const timelock = await actAsTimelock(connection, core);
      await stake(core, alice, 10n * POD);
      const a = getAddress(alice.account.address);
      const b = getAddress(bob.account.address);
      await viem.assertions.revertWithCustomErrorWithArgs(
        stakedPod.write.lockFor([a, a, SHARES_PER_POD], { account: alice.account }),
        stakedPod,
        "CallerNotBondManager",
        [a],
      );
      await viem.assertions.revertWithCustomErrorWithArgs(
        stakedPod.write.unlockTo([a, b, SHARES_PER_POD], { account: bob.account }),
        stakedPod,
        "CallerNotBondManager",
        [b],
      );
      await viem.assertions.revertWithCustomErrorWithArgs(
        stakedPod.write.lockFor([a, a, SHARES_PER_POD], { account: timelock }),
        stakedPod,
        "CallerNotBondManager",
        [timelock],
      );
    });
  });
});
