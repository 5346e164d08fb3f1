/**
 * Governance through the SDK on PodDevnet: alice holds enough POD (part staked) to propose and
 * reach quorum; she delegates, proposes a ProtocolParams change, votes, queues and executes it,
 * and each step taken out of turn reaches her as the Governor's or timelock's custom error.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { network } from "hardhat";
import type { NetworkConnection } from "hardhat/types/network";
import { decodeFunctionData, parseEther } from "viem";
import { protocolParamsAbi } from "../src/abi/ProtocolParams.ts";
import { parameterChangeProposal, parameterKey } from "../src/actions/governance.ts";
import { DAY, deployCore, type Core } from "../../test/helpers/fixture.ts";
import { addressOf, podFor, rejectsWith } from "./actionsFixture.ts";

let connection: NetworkConnection;
let deploy: () => Promise<Core>;

before(async () => {
  connection = await network.create();
  deploy = async () => {
    const core = await deployCore(connection);
    await core.podToken.write.transfer([core.alice.account.address, parseEther("60000000")]);
    return core;
  };
});
after(async () => {
  await connection.close();
});

const increaseTo = (ts: bigint) => connection.networkHelpers.time.increaseTo(ts);

describe("SDK governance", () => {
  test("delegates, proposes a parameter change, votes, queues and executes it", async () => {
    const core = await connection.networkHelpers.loadFixture(deploy);
    const alice = podFor(core, core.alice);
    await alice.stake({ assets: parseEther("10000000") });
    const delegated = await alice.delegateVotes();
    assert.equal(delegated.hashes.length, 2);
    assert.deepEqual((await alice.delegateVotes()).hashes, [], "delegating again sends nothing");
    await connection.networkHelpers.mine(1);

    const proposed = await alice.proposeParameterChange({ changes: [{ name: "stakeCooldown", value: 7n * DAY }], description: "Shorter stake cooldown" });
    const { proposal } = proposed;
    assert.equal(proposal.proposalId, await core.governor.read.hashProposal([[...proposal.targets], [...proposal.values], [...proposal.calldatas], proposal.descriptionHash]));
    assert.equal((await alice.getProposalState({ proposalId: proposal.proposalId })).state, "pending");
    const early = await rejectsWith(alice.castVote({ proposalId: proposal.proposalId, support: "for" }), "GovernorUnexpectedProposalState");
    assert.equal(early.args[0], proposal.proposalId);
    await rejectsWith(alice.proposeParameterChange({ changes: [{ name: "stakeCooldown", value: 7n * DAY }], description: "Shorter stake cooldown" }), "GovernorUnexpectedProposalState");

    await increaseTo(proposed.voteStart + 1n);
    const vote = await alice.castVote({ proposalId: proposal.proposalId, support: "for", reason: "faster exits" });
    assert.ok(vote.weight > parseEther("60000000") - 1n, `weight ${vote.weight} counts liquid and staked POD`);
    await rejectsWith(alice.castVote({ proposalId: proposal.proposalId, support: "against" }), "GovernorAlreadyCastVote");

    await increaseTo(proposed.voteEnd + 1n);
    assert.equal((await alice.getProposalState({ proposalId: proposal.proposalId })).state, "succeeded");
    const queued = await alice.queueProposal({ proposal });
    await rejectsWith(alice.executeProposal({ proposal }), "TimelockUnexpectedOperationState");
    await increaseTo(queued.etaSeconds);
    await alice.executeProposal({ proposal });
    assert.equal(await core.protocolParams.read.stakeCooldown(), 7n * DAY);
    assert.equal((await alice.getProposalState({ proposalId: proposal.proposalId })).state, "executed");
  });

  test("a holder without votes is GovernorInsufficientProposerVotes; several changes go in one setParameters", async () => {
    const core = await connection.networkHelpers.loadFixture(deploy);
    const bob = podFor(core, core.bob);
    const refused = await rejectsWith(bob.proposeParameterChange({ changes: [{ name: "unbondingPeriod", value: DAY }], description: "x" }), "GovernorInsufficientProposerVotes");
    assert.deepEqual(refused.args, [addressOf(core.bob), 0n, await core.governor.read.proposalThreshold()]);

    const body = parameterChangeProposal(bob, [{ name: "stakeCooldown", value: DAY }, { name: "unbondingPeriod", value: 2n * DAY }], "two");
    const call = decodeFunctionData({ abi: protocolParamsAbi, data: body.calldatas[0]! });
    assert.equal(call.functionName, "setParameters");
    assert.deepEqual(call.args, [[parameterKey("stakeCooldown"), parameterKey("unbondingPeriod")], [DAY, 2n * DAY]]);
    await rejectsWith(bob.getProposalState({ proposalId: 12345n }), "GovernorNonexistentProposal");
    assert.throws(() => parameterKey("a name that is far too long to fit in bytes32"), RangeError);
  });
});
