import assert from "node:assert/strict";
import { network } from "hardhat";
import { getAddress, stringToHex, zeroAddress } from "viem";
import { DAY, deployCore, now, POD, SHARES_PER_POD } from "./helpers/fixture.ts";
import { actAsTimelock, eventsIn, nextAt, role, stake } from "./helpers/unit.ts";

const connection = await network.create();
const coreFixture = () => deployCore(connection);
const { viem } = connection;

const S = SHARES_PER_POD;
const STAKE = 1000n * S;
const REASON = stringToHex("invalid-logprobs", { size: 32 });

/** Alice stakes 1000 POD and bonds `bonded` shares; the test acts as the timelock (SLASHER_ROLE). */
async function bonded(bondedShares: bigint) {
  const core = await connection.networkHelpers.loadFixture(coreFixture);
  await stake(core, core.alice, 1000n * POD);
  if (bondedShares > 0n) await core.bondManager.write.bond([bondedShares], { account: core.alice.account });
  const timelock = await actAsTimelock(connection, core);
  return {
    ...core,
    tl: timelock,
    a: getAddress(core.alice.account.address),
    b: getAddress(core.bob.account.address),
    c: getAddress(core.carol.account.address),
    d: getAddress(core.dave.account.address),
    bm: getAddress(core.bondManager.address),
  };
}

describe("BondManager slashing and votes", () => {
  describe("slash", () => {
    it("requires SLASHER_ROLE (AccessControlUnauthorizedAccount), which the timelock can grant", async () => {
      const { bondManager, alice, deployer, carol, tl, a, c, d } = await bonded(400n * S);
      const slasher = await bondManager.read.SLASHER_ROLE();
      assert.equal(slasher, role("SLASHER_ROLE"));
      for (const caller of [alice, deployer, carol]) {
        await viem.assertions.revertWithCustomErrorWithArgs(
          bondManager.write.slash([a, S, d, REASON], { account: caller.account }),
          bondManager,
          "AccessControlUnauthorizedAccount",
          [getAddress(caller.account.address), slasher],
        );
      }
      await bondManager.write.grantRole([slasher, c], { account: tl });
      await viem.assertions.emitWithArgs(
        bondManager.write.slash([a, S, d, REASON], { account: carol.account }),
        bondManager,
        "Slashed",
        [a, d, S, 0n, REASON],
      );
    });

    it("rejects zero shares, a zero recipient, and an account with nothing bonded", async () => {
      const { bondManager, tl, a, b, d } = await bonded(400n * S);
      await viem.assertions.revertWithCustomError(bondManager.write.slash([a, 0n, d, REASON], { account: tl }), bondManager, "ZeroShares");
      await viem.assertions.revertWithCustomError(
        bondManager.write.slash([a, S, zeroAddress, REASON], { account: tl }),
        bondManager,
        "ZeroAccount",
      );
      await viem.assertions.revertWithCustomErrorWithArgs(
        bondManager.write.slash([b, S, d, REASON], { account: tl }),
        bondManager,
        "NothingToSlash",
        [b],
      );
    });

    it("takes the active bond first, then the pending unbond, and sends the shares to the recipient", async () => {
      const core = await bonded(STAKE);
      const { bondManager, stakedPod, alice, tl, a, d, bm } = core;
      await bondManager.write.requestUnbond([300n * S], { account: alice.account });
      const [, unlocksAt] = await bondManager.read.pendingUnbond([a]);

      const slash = async (shares: bigint, fromActive: bigint, fromPending: bigint) => {
        const { result } = await bondManager.simulate.slash([a, shares, d, REASON], { account: tl });
        assert.equal(result, fromActive + fromPending, "slash returns what it took");
        const tx = bondManager.write.slash([a, shares, d, REASON], { account: tl });
        await viem.assertions.emitWithArgs(tx, bondManager, "Slashed", [a, d, fromActive, fromPending, REASON]);
        await viem.assertions.emitWithArgs(tx, stakedPod, "Transfer", [bm, d, fromActive + fromPending]);
      };

      await slash(500n * S, 500n * S, 0n);
      assert.equal(await bondManager.read.activeShares([a]), 200n * S);
      assert.deepEqual(await bondManager.read.pendingUnbond([a]), [300n * S, unlocksAt]);
      assert.equal(await bondManager.read.activeSharesAt([a, await now(connection)]), 200n * S);

      await slash(400n * S, 200n * S, 200n * S);
      assert.equal(await bondManager.read.activeShares([a]), 0n);
      assert.deepEqual(await bondManager.read.pendingUnbond([a]), [100n * S, unlocksAt]);
      assert.equal(await bondManager.read.bondedShares([a]), 100n * S);
      assert.equal(await stakedPod.read.balanceOf([bm]), 100n * S, "the manager holds exactly what is still bonded");

      await slash(STAKE, 0n, 100n * S);
      assert.equal(await bondManager.read.bondedShares([a]), 0n);
      assert.equal(await stakedPod.read.balanceOf([bm]), 0n);
      assert.equal(await stakedPod.read.balanceOf([d]), STAKE);
      await viem.assertions.revertWithCustomErrorWithArgs(
        bondManager.write.slash([a, S, d, REASON], { account: tl }),
        bondManager,
        "NothingToSlash",
        [a],
      );
      await viem.assertions.revertWithCustomErrorWithArgs(
        bondManager.write.withdrawUnbonded({ account: alice.account }),
        bondManager,
        "NoPendingUnbond",
        [a],
      );
    });

    it("a pending unbond stays slashable at unlocksAt - 1, at unlocksAt and later, until withdrawn", async () => {
      const { bondManager, alice, tl, a, d } = await bonded(400n * S);
      const t = (await now(connection)) + 100n;
      await nextAt(connection, t);
      await bondManager.write.requestUnbond([400n * S], { account: alice.account });
      const unlocksAt = t + 90n * DAY;

      const start = await connection.networkHelpers.takeSnapshot();
      await nextAt(connection, unlocksAt - 1n);
      await viem.assertions.emitWithArgs(
        bondManager.write.slash([a, 100n * S, d, REASON], { account: tl }),
        bondManager,
        "Slashed",
        [a, d, 0n, 100n * S, REASON],
      );
      await nextAt(connection, unlocksAt);
      await viem.assertions.emitWithArgs(bondManager.write.withdrawUnbonded({ account: alice.account }), bondManager, "UnbondWithdrawn", [
        a,
        300n * S,
      ]);
      await viem.assertions.revertWithCustomErrorWithArgs(
        bondManager.write.slash([a, S, d, REASON], { account: tl }),
        bondManager,
        "NothingToSlash",
        [a],
      );

      for (const ts of [unlocksAt, unlocksAt + 1n, unlocksAt + 30n * DAY]) {
        await start.restore();
        await nextAt(connection, ts);
        await viem.assertions.emitWithArgs(
          bondManager.write.slash([a, 100n * S, d, REASON], { account: tl }),
          bondManager,
          "Slashed",
          [a, d, 0n, 100n * S, REASON],
        );
        assert.deepEqual(await bondManager.read.pendingUnbond([a]), [300n * S, unlocksAt]);
      }
    });
  });

  describe("votes", () => {
    it("bonding, unbonding and withdrawing never change the holder's votes", async () => {
      const core = await bonded(0n);
      const { bondManager, stakedPod, alice, a } = core;
      await stakedPod.write.delegate([a], { account: alice.account });
      assert.equal(await stakedPod.read.getVotes([a]), STAKE);

      const steps = [
        () => bondManager.write.bond([600n * S], { account: alice.account }),
        () => bondManager.write.requestUnbond([200n * S], { account: alice.account }),
        () => bondManager.write.cancelUnbond({ account: alice.account }),
        () => bondManager.write.requestUnbond([250n * S], { account: alice.account }),
      ];
      for (const step of steps) {
        const hash = await step();
        assert.equal((await eventsIn(core, hash, stakedPod, "DelegateVotesChanged")).length, 0);
        assert.equal(await stakedPod.read.getVotes([a]), STAKE);
      }
      const [, unlocksAt] = await bondManager.read.pendingUnbond([a]);
      await nextAt(connection, unlocksAt);
      const hash = await bondManager.write.withdrawUnbonded({ account: alice.account });
      assert.equal((await eventsIn(core, hash, stakedPod, "DelegateVotesChanged")).length, 0);
      assert.equal(await stakedPod.read.getVotes([a]), STAKE);
      assert.equal(await stakedPod.read.balanceOf([a]) + (await bondManager.read.bondedShares([a])), STAKE);
      assert.equal(await stakedPod.read.getPastVotesInAssets([a, unlocksAt - 1n]), 1000n * POD);
    });

    it("delegating later counts the shares bonded for the holder, active and pending", async () => {
      const { bondManager, stakedPod, alice, bob, a, b } = await bonded(600n * S);
      await bondManager.write.requestUnbond([100n * S], { account: alice.account });
      await viem.assertions.emitWithArgs(stakedPod.write.delegate([a], { account: alice.account }), stakedPod, "DelegateVotesChanged", [
        a,
        0n,
        STAKE,
      ]);
      const moved = stakedPod.write.delegate([b], { account: alice.account });
      await viem.assertions.emitWithArgs(moved, stakedPod, "DelegateVotesChanged", [a, STAKE, 0n]);
      await viem.assertions.emitWithArgs(moved, stakedPod, "DelegateVotesChanged", [b, 0n, STAKE]);
      assert.equal(await stakedPod.read.getVotes([b]), STAKE);
      assert.equal(await stakedPod.read.getVotes([bob.account.address]), STAKE);
    });

    it("a slash moves votes from the account's delegate to the recipient's delegate", async () => {
      const { bondManager, stakedPod, alice, dave, tl, a, c, d } = await bonded(600n * S);
      await stakedPod.write.delegate([a], { account: alice.account });
      await stakedPod.write.delegate([c], { account: dave.account });
      await bondManager.write.requestUnbond([100n * S], { account: alice.account });

      const slashed = bondManager.write.slash([a, 550n * S, d, REASON], { account: tl });
      await viem.assertions.emitWithArgs(slashed, stakedPod, "DelegateVotesChanged", [a, STAKE, STAKE - 550n * S]);
      await viem.assertions.emitWithArgs(slashed, stakedPod, "DelegateVotesChanged", [c, 0n, 550n * S]);
      await viem.assertions.emitWithArgs(slashed, bondManager, "Slashed", [a, d, 500n * S, 50n * S, REASON]);
      assert.equal(await stakedPod.read.getVotes([a]), STAKE - 550n * S);
      assert.equal(await stakedPod.read.getVotes([c]), 550n * S);
      assert.equal(await stakedPod.read.getVotes([d]), 0n);
      assert.equal(await bondManager.read.bondedShares([a]), 50n * S);
    });

    it("bondFor moves votes from the payer's delegate to the account's delegate", async () => {
      const core = await bonded(0n);
      const { bondManager, stakedPod, bob, carol, tl, b, c } = core;
      await bondManager.write.grantRole([role("BOND_FOR_ROLE"), c], { account: tl });
      await stake(core, carol, 500n * POD);
      await stakedPod.write.delegate([c], { account: carol.account });
      await stakedPod.write.delegate([b], { account: bob.account });
      const bondedFor = bondManager.write.bondFor([b, 200n * S], { account: carol.account });
      await viem.assertions.emitWithArgs(bondedFor, stakedPod, "DelegateVotesChanged", [c, 500n * S, 300n * S]);
      await viem.assertions.emitWithArgs(bondedFor, stakedPod, "DelegateVotesChanged", [b, 0n, 200n * S]);
      assert.equal(await stakedPod.read.getVotes([b]), 200n * S);
      assert.equal(await bondManager.read.bondedShares([b]), 200n * S);
    });
  });
});
