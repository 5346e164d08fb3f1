/**
 * Proposing epoch roots on a real RewardsDistributor (three oracles, quorum 2): signatures from
 * signEpochRoot are accepted, a second proposal of the same root sends nothing, a different
 * on-chain root is a ProposalConflict, and reverts come back decoded by name.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import { network } from "hardhat";
import type { NetworkConnection } from "hardhat/types/network";
import { getAddress, parseEther, zeroHash } from "viem";
import { mineAt } from "../../test/helpers/unit.ts";
import { epochClose, epochRootOf, ORACLES, OUTSIDER, rewardsFixture, rewardTree } from "../../test/helpers/rewards.ts";
import { paramName, type Core } from "../../test/helpers/fixture.ts";
import type { EpochRoot } from "../../sdk/src/typedData.ts";
import { ContractRevertError } from "../src/chain/errors.ts";
import { ProposalConflict, proposeRoot, readOracleSet, readProposal, type OracleSignature } from "../src/chain/propose.ts";
import { epochRootDigest, recoverEpochRootSigner, signEpochRoot } from "../src/cosign/signedRoot.ts";

describe("proposing epoch roots", () => {
  let connection: NetworkConnection;
  let fixture: () => Promise<Core>;
  let core: Core;
  let chainId: number;
  let distributor: `0x${string}`;

  before(async () => {
    connection = await network.create();
    fixture = rewardsFixture(connection);
  });
  after(async () => {
    await connection.close();
  });
  beforeEach(async () => {
    core = await connection.networkHelpers.loadFixture(fixture);
    chainId = await core.publicClient.getChainId();
    distributor = getAddress(core.rewardsDistributor.address);
  });

  const signAll = (epochRoot: EpochRoot, signers = ORACLES): Promise<OracleSignature[]> =>
    Promise.all(signers.map(async (o) => ({ signer: o.address, signature: (await signEpochRoot(o, epochRoot, { chainId, distributor })).signature })));

  const rootOfEpoch0 = () => {
    const tree = rewardTree({ [core.alice.account.address]: parseEther("10"), [core.bob.account.address]: parseEther("5") });
    return epochRootOf(0n, tree.root, tree.total);
  };

  async function rootProposedEvents() {
    return core.publicClient.getContractEvents({ address: distributor, abi: core.rewardsDistributor.abi, eventName: "RootProposed", fromBlock: 0n });
  }

  test("the digest and the signer match the contract's; the oracle set is read", async () => {
    const epochRoot = rootOfEpoch0();
    assert.equal(epochRootDigest(epochRoot, { chainId, distributor }), await core.rewardsDistributor.read.epochRootDigest([epochRoot]));
    const { signature } = await signEpochRoot(ORACLES[1]!, epochRoot, { chainId, distributor });
    assert.equal(await recoverEpochRootSigner(epochRoot, signature, { chainId, distributor }), ORACLES[1]!.address);
    assert.deepEqual(await readOracleSet(core.publicClient, distributor), { oracles: ORACLES.map((o) => o.address), quorum: 2 });
  });

  test("accepted with the quorum of three signatures given out of order; a second call sends nothing", async () => {
    const epochRoot = rootOfEpoch0();
    await mineAt(connection, await epochClose(core, 0n));
    assert.deepEqual(await readProposal(core.publicClient, distributor, 0), { record: null, status: "None", nextEpoch: 0n });
    const signatures = (await signAll(epochRoot)).reverse();

    const first = await proposeRoot(core.deployer, core.publicClient, distributor, epochRoot, signatures);
    assert.equal(first.alreadyProposed, false);
    const proposal = await readProposal(core.publicClient, distributor, 0);
    assert.equal(proposal.status, "Proposed");
    assert.equal(proposal.nextEpoch, 1n);
    assert.deepEqual(
      { ...proposal.record, claimableAt: undefined },
      { root: epochRoot.root, total: epochRoot.total, reportHash: epochRoot.reportHash, validatorsRoot: zeroHash, claimableAt: undefined },
    );

    const second = await proposeRoot(core.deployer, core.publicClient, distributor, epochRoot, signatures);
    assert.deepEqual(second, { alreadyProposed: true });
    assert.equal((await rootProposedEvents()).length, 1);
  });

  test("another oracle's proposal landing between the check and the send is recognised as the same root", async () => {
    const epochRoot = rootOfEpoch0();
    await mineAt(connection, await epochClose(core, 0n));
    const signatures = await signAll(epochRoot);
    let raced = false;
    const client = core.publicClient;
    const racing = {
      ...client,
      // A real proposal by another oracle, sent just before our simulation.
      simulateContract: (async (...args: Parameters<typeof client.simulateContract>) => {
        if (!raced) {
          raced = true;
          await core.rewardsDistributor.write.proposeRoot([epochRoot, signatures.slice(0, 2).map((s) => s.signature)], { account: core.bob.account });
        }
        return client.simulateContract(...args);
      }) as unknown as typeof client.simulateContract,
    };
    assert.deepEqual(await proposeRoot(core.deployer, racing, distributor, epochRoot, signatures), { alreadyProposed: true });
    assert.ok(raced);
    assert.equal((await rootProposedEvents()).length, 1);
  });

  test("a different record on-chain is a ProposalConflict naming the fields", async () => {
    const epochRoot = rootOfEpoch0();
    await mineAt(connection, await epochClose(core, 0n));
    await proposeRoot(core.deployer, core.publicClient, distributor, epochRoot, await signAll(epochRoot));
    const other: EpochRoot = { ...epochRoot, total: epochRoot.total + 1n, validatorsRoot: `0x${"11".repeat(32)}` };
    await assert.rejects(proposeRoot(core.deployer, core.publicClient, distributor, other, await signAll(other)), (error: unknown) => {
      assert.ok(error instanceof ProposalConflict, String(error));
      assert.deepEqual(error.fields, ["total", "validatorsRoot"]);
      assert.equal(error.onChain.total, epochRoot.total);
      return true;
    });
    assert.equal((await rootProposedEvents()).length, 1);
  });

  test("a revoked root stands for nothing: another root is proposed for the epoch, no conflict", async () => {
    const epochRoot = rootOfEpoch0();
    await mineAt(connection, await epochClose(core, 0n));
    await proposeRoot(core.deployer, core.publicClient, distributor, epochRoot, await signAll(epochRoot));
    await core.rewardsDistributor.write.revokeRoot([0n], { account: core.deployer.account });
    assert.deepEqual(await readProposal(core.publicClient, distributor, 0), { record: null, status: "Revoked", nextEpoch: 0n });
    const corrected: EpochRoot = { ...epochRoot, total: epochRoot.total - 1n };
    const result = await proposeRoot(core.deployer, core.publicClient, distributor, corrected, await signAll(corrected));
    assert.equal(result.alreadyProposed, false);
    assert.equal((await readProposal(core.publicClient, distributor, 0)).record?.total, corrected.total);
  });

  test("reverts are decoded: EpochNotClosed, EpochOutOfOrder, QuorumNotReached (an outsider's signature left out), EpochBudgetExceeded", async () => {
    const epochRoot = rootOfEpoch0();
    const revert = async (root: EpochRoot, signatures: OracleSignature[], name: string, args: readonly unknown[]) =>
      assert.rejects(proposeRoot(core.deployer, core.publicClient, distributor, root, signatures), (error: unknown) => {
        assert.ok(error instanceof ContractRevertError, String(error));
        assert.deepEqual(error.error, { name, args });
        return true;
      });
    const closesAt = await epochClose(core, 0n);
    await revert(epochRoot, await signAll(epochRoot), "EpochNotClosed", [0n, closesAt]);
    await mineAt(connection, closesAt);
    const skipping = { ...epochRoot, epoch: 1n };
    await revert(skipping, await signAll(skipping), "EpochOutOfOrder", [1n, 0n]);
    const one = await signAll(epochRoot, [ORACLES[2]!]);
    const outsider = { signer: OUTSIDER.address, signature: (await signEpochRoot(OUTSIDER, epochRoot, { chainId, distributor })).signature };
    await revert(epochRoot, [...one, outsider], "QuorumNotReached", [1n, 2n]);
    const budget = await core.protocolParams.read.getParameter([paramName("epochEmissionBudget")]);
    const overBudget = { ...epochRoot, total: budget + 1n };
    await revert(overBudget, await signAll(overBudget), "EpochBudgetExceeded", [0n, budget + 1n, budget]);
  });
});
