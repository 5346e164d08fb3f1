import assert from "node:assert/strict";
import { network } from "hardhat";
import { encodeFunctionData, getAddress, keccak256, parseEther, toHex, type Abi, type Hex } from "viem";
import { deployCore, paramName } from "./helpers/fixture.ts";

const connection = await network.create();
const { viem, networkHelpers } = connection;
const RAY = 10n ** 27n;

/**
 * Alice holds 50M POD: 20M liquid, 30M staked, of which a third is bonded and a sixth is
 * cooling down. The treasury then adds 3M POD to the vault, so her sPOD is worth more POD.
 */
async function governanceFixture() {
  const core = await deployCore(connection);
  const { podToken, stakedPod, bondManager, alice, deployer } = core;
  const me = alice.account.address;
  await podToken.write.transfer([me, parseEther("49000000")], { account: deployer.account });
  await podToken.write.approve([stakedPod.address, parseEther("30000000")], { account: alice.account });
  await stakedPod.write.deposit([parseEther("30000000"), me], { account: alice.account });
  const shares = await stakedPod.read.balanceOf([me]);
  await bondManager.write.bond([shares / 3n], { account: alice.account });
  await stakedPod.write.cooldown([shares / 6n], { account: alice.account });
  await podToken.write.delegate([me], { account: alice.account });
  await stakedPod.write.delegate([me], { account: alice.account });
  await podToken.write.transfer([stakedPod.address, parseEther("3000000")], { account: deployer.account });
  await stakedPod.write.checkpointRate();
  return core;
}

/** Calldata of `ProtocolParams.setParameter(name, value)`, the body of every proposal here. */
function setParameterCall(abi: Abi, name: Hex, value: bigint): Hex {
  return encodeFunctionData({ abi, functionName: "setParameter", args: [name, value] });
}

async function passAndQueue(
  core: Awaited<ReturnType<typeof governanceFixture>>,
  calldata: `0x${string}`,
  description: string,
) {
  const { governor, protocolParams, alice } = core;
  const targets = [protocolParams.address];
  const values = [0n];
  const calldatas = [calldata];
  const descriptionHash = keccak256(toHex(description));
  await governor.write.propose([targets, values, calldatas, description], { account: alice.account });
  const proposalId = await governor.read.hashProposal([targets, values, calldatas, descriptionHash]);
  const snapshot = await governor.read.proposalSnapshot([proposalId]);
  await networkHelpers.time.increaseTo(snapshot + 1n);
  await viem.assertions.emitWithArgs(
    governor.write.castVote([proposalId, 1], { account: alice.account }),
    governor,
    "VoteCast",
    [getAddress(alice.account.address), proposalId, 1, await governor.read.getVotes([alice.account.address, snapshot]), ""],
  );
  await networkHelpers.time.increaseTo((await governor.read.proposalDeadline([proposalId])) + 1n);
  assert.equal(await governor.read.state([proposalId]), 4); // Succeeded
  await governor.write.queue([targets, values, calldatas, descriptionHash]);
  await networkHelpers.time.increaseTo((await governor.read.proposalEta([proposalId])) + 1n);
  return { proposalId, execute: () => governor.write.execute([targets, values, calldatas, descriptionHash]) };
}

describe("Governance", () => {
  it("counts POD plus the POD value of sPOD held, cooling down and bonded", async () => {
    const { governor, podToken, stakedPod, bondManager, alice } = await networkHelpers.loadFixture(governanceFixture);
    const me = alice.account.address;
    await networkHelpers.mine(1);
    const t = BigInt(await networkHelpers.time.latest()) - 1n;

    const held = await stakedPod.read.balanceOf([me]);
    const bonded = await bondManager.read.bondedShares([me]);
    assert.ok(bonded > 0n && (await stakedPod.read.cooldownOf([me])).shares > 0n);
    const rate = await stakedPod.read.rateAt([t]);
    const expected = parseEther("20000000") + ((held + bonded) * rate) / RAY;
    assert.equal(await podToken.read.getPastVotes([me, t]), parseEther("20000000"));
    assert.equal(await stakedPod.read.getPastVotes([me, t]), held + bonded);
    assert.equal(await governor.read.getVotes([me, t]), expected);
    // All 33M POD in the vault are Alice's: her votes are worth 53M POD, less rounding dust.
    const dust = parseEther("53000000") - expected;
    assert.ok(dust >= 0n && dust < parseEther("0.000001"), `rounding dust ${dust}`);
  });

  it("never costs a vote to stake, cool down, bond or unbond", async () => {
    const { governor, podToken, stakedPod, bondManager, bob } = await networkHelpers.loadFixture(governanceFixture);
    const me = bob.account.address;
    await podToken.write.delegate([me], { account: bob.account });
    await stakedPod.write.delegate([me], { account: bob.account });
    const votesNow = async () => {
      await networkHelpers.mine(1);
      return governor.read.getVotes([me, BigInt(await networkHelpers.time.latest()) - 1n]);
    };
    const before = await votesNow();
    assert.equal(before, parseEther("1000000"));

    await podToken.write.approve([stakedPod.address, parseEther("600000")], { account: bob.account });
    await stakedPod.write.deposit([parseEther("600000"), me], { account: bob.account });
    const shares = await stakedPod.read.balanceOf([me]);
    await stakedPod.write.checkpointRate();
    const tolerance = parseEther("0.000001");
    const near = (a: bigint, b: bigint) => (a > b ? a - b : b - a) <= tolerance;
    assert.ok(near(await votesNow(), before), "after staking");
    await stakedPod.write.cooldown([shares / 2n], { account: bob.account });
    assert.ok(near(await votesNow(), before), "while cooling down");
    await bondManager.write.bond([shares / 4n], { account: bob.account });
    assert.ok(near(await votesNow(), before), "after bonding");
    await bondManager.write.requestUnbond([shares / 8n], { account: bob.account });
    assert.ok(near(await votesNow(), before), "with a pending unbond");
  });

  it("changes a boost parameter through proposal, vote, queue and timelocked execution", async () => {
    const core = await networkHelpers.loadFixture(governanceFixture);
    const { protocolParams, governor } = core;
    const name = paramName("lambdaUpPpm");
    const calldata = setParameterCall(protocolParams.abi, name, 600_000n);
    const { proposalId, execute } = await passAndQueue(core, calldata, "Raise lambdaUp to 0.6");

    await viem.assertions.emitWithArgs(execute(), protocolParams, "ParameterChanged", [name, 500_000n, 600_000n]);
    assert.equal(await protocolParams.read.getParameter([name]), 600_000n);
    assert.equal((await protocolParams.read.boostParams()).lambdaUpPpm, 600_000n);
    assert.equal(await governor.read.state([proposalId]), 7); // Executed
  });

  it("fails at execution with the bound's custom error when a proposal breaks a bound", async () => {
    const core = await networkHelpers.loadFixture(governanceFixture);
    const { protocolParams, governor } = core;
    const name = paramName("maxMultiplierPpm");
    const calldata = setParameterCall(protocolParams.abi, name, 1_400_000n);
    const { proposalId, execute } = await passAndQueue(core, calldata, "Allow a 1.4x multiplier");

    await viem.assertions.revertWithCustomErrorWithArgs(execute(), protocolParams, "ParameterOutOfBounds", [
      name,
      1_400_000n,
      1_000_000n,
      1_300_000n,
    ]);
    assert.equal(await protocolParams.read.getParameter([name]), 1_300_000n);
    assert.equal(await governor.read.state([proposalId]), 5); // still Queued
  });

  it("rejects a proposal below the threshold and votes after the deadline", async () => {
    const core = await networkHelpers.loadFixture(governanceFixture);
    const { governor, protocolParams, carol, alice } = core;
    const calldata = setParameterCall(protocolParams.abi, paramName("kMax"), 12n);
    // Carol never delegated: she has no votes at all.
    await viem.assertions.revertWithCustomErrorWithArgs(
      governor.write.propose([[protocolParams.address], [0n], [calldata], "k"], { account: carol.account }),
      governor,
      "GovernorInsufficientProposerVotes",
      [getAddress(carol.account.address), 0n, parseEther("100000")],
    );
    const { proposalId } = await passAndQueue(core, calldata, "kMax to 12");
    await viem.assertions.revertWithCustomError(
      governor.write.castVote([proposalId, 1], { account: alice.account }),
      governor,
      "GovernorUnexpectedProposalState",
    );
    assert.equal(await governor.read.timelock(), getAddress(core.timelock.address));
  });
});
