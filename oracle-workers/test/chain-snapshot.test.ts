/**
 * The chain state at an epoch's closing block: parameters, budget, model weights, node keys and
 * accounts read at that block, so that a bond, a suspension or a parameter change after the
 * close does not move them (and the next epoch's snapshot does see them).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { network } from "hardhat";
import type { NetworkConnection } from "hardhat/types/network";
import { getAddress, keccak256, stringToHex, toHex, type Address } from "viem";
import { deployCore, paramName, POD, SHARES_PER_POD, type Core } from "../../test/helpers/fixture.ts";
import { nodeKey, registerNode } from "../../test/helpers/registry.ts";
import { actAsTimelock, mineAt, nextAt, SAMPLE_MODEL_PARAMS, stake } from "../../test/helpers/unit.ts";
import type { EpochChainState, OracleContracts } from "../src/epoch/types.ts";
import { DEFAULT_REWARD_PARAMS } from "../../sdk/src/rewardParams.ts";
import { epochClosesAt, findClosingBlock, readEpochSchedule } from "../src/chain/schedule.ts";
import { readEpochChainState } from "../src/chain/snapshot.ts";

const REASON = stringToHex("review", { size: 32 });
const ENABLED = "gpt2-pod-small";
const DISABLED = "llama-pod-1b";
const UNKNOWN = "never-configured";

describe("chain state at the closing block", () => {
  let connection: NetworkConnection;
  let core: Core;
  let contracts: OracleContracts;
  let timelock: Address;
  const keys = { alice: nodeKey("alice-1"), bob: nodeKey("bob-1"), carol: nodeKey("carol-1"), dave: nodeKey("dave-1"), nobody: nodeKey("nobody") };
  const [A1, B1, C1, D1, N1] = [keys.alice, keys.bob, keys.carol, keys.dave, keys.nobody].map((k) => getAddress(k.address)) as [Address, Address, Address, Address, Address];
  let a: Address, b: Address, c: Address, d: Address;

  before(async () => {
    connection = await network.create();
    core = await deployCore(connection, { params: { lambdaUpPpm: 400_000n } });
    contracts = {
      protocolParams: getAddress(core.protocolParams.address),
      rewardsDistributor: getAddress(core.rewardsDistributor.address),
      bondManager: getAddress(core.bondManager.address),
      nodeRegistry: getAddress(core.nodeRegistry.address),
      creditVault: getAddress(core.creditVault.address),
      buyback: getAddress(core.buyback.address),
    };
    [a, b, c, d] = [core.alice, core.bob, core.carol, core.dave].map((w) => getAddress(w.account.address)) as [Address, Address, Address, Address];
    timelock = await actAsTimelock(connection, core);
    await core.protocolParams.write.setModelParams([stringToHex(ENABLED, { size: 32 }), SAMPLE_MODEL_PARAMS], { account: timelock });
    await core.protocolParams.write.setModelParams([stringToHex(DISABLED, { size: 32 }), { ...SAMPLE_MODEL_PARAMS, enabled: false, workWeightPpm: 500_000 }], { account: timelock });
    // Alice bonds 1000 POD and runs a node; bob runs one unbonded; carol's left; dave's is known from before.
    await stake(core, core.alice, 1000n * POD);
    await core.bondManager.write.bond([1000n * SHARES_PER_POD], { account: core.alice.account });
    await registerNode(core, core.alice, keys.alice);
    await registerNode(core, core.bob, keys.bob);
    await registerNode(core, core.carol, keys.carol);
    await core.nodeRegistry.write.deregisterNode([C1], { account: core.carol.account });
    await registerNode(core, core.dave, keys.dave);
  });
  after(async () => {
    await connection.close();
  });

  const read = async (epoch: number, closesAt: bigint): Promise<EpochChainState> => {
    const block = await findClosingBlock(core.publicClient, closesAt);
    assert.ok(block !== null, "the epoch has closed on-chain");
    return readEpochChainState(core.publicClient, contracts, {
      epoch,
      closesAt,
      block,
      nodes: [A1, B1, C1, N1],
      accounts: [c],
      models: [ENABLED, DISABLED, UNKNOWN, ENABLED],
      nodeKeysByAccount: new Map([[d, [D1]]]),
    });
  };

  test("values at the close ignore a bond, suspensions and a budget change after it; the next close sees them", async () => {
    const schedule = await readEpochSchedule(core.publicClient, contracts.protocolParams);
    const closesAt = epochClosesAt(schedule, 0);
    // After the close: bob bonds, alice's node and bob's account are suspended, the budget halves.
    await nextAt(connection, closesAt);
    await stake(core, core.bob, 500n * POD);
    await core.bondManager.write.bond([500n * SHARES_PER_POD], { account: core.bob.account });
    await core.nodeRegistry.write.setNodeSuspended([A1, true, REASON], { account: timelock });
    await core.nodeRegistry.write.setAccountSuspended([b, true, REASON], { account: timelock });
    await core.protocolParams.write.setParameter([paramName("epochEmissionBudget"), 500_000n * POD], { account: timelock });

    const state = await read(0, closesAt);
    assert.equal(state.chainId, await core.publicClient.getChainId());
    assert.ok(state.block.timestamp < closesAt);
    assert.deepEqual(state.params, { ...DEFAULT_REWARD_PARAMS, lambdaUpPpm: 400_000 });
    assert.equal(state.emissionBudget, 1_000_000n * POD);
    assert.deepEqual([...state.modelWeights], [[ENABLED, 1_000_000]]);
    assert.deepEqual(Object.fromEntries(state.nodes), {
      [A1]: { account: a, active: true, suspended: false, banned: false },
      [B1]: { account: b, active: true, suspended: false, banned: false },
      [C1]: { account: c, active: false, suspended: false, banned: false },
      [N1]: { account: null, active: false, suspended: false, banned: false },
      [D1]: { account: d, active: true, suspended: false, banned: false },
    });
    // activeBondAt(closesAt - 1), as read now that the close is past.
    const aliceBond = await core.bondManager.read.activeBondAt([a, closesAt - 1n]);
    assert.ok(aliceBond > 999n * POD);
    assert.deepEqual(Object.fromEntries(state.accounts), {
      [c]: { bond: 0n, registered: false, suspended: false },
      [d]: { bond: 0n, registered: true, suspended: false },
      [a]: { bond: aliceBond, registered: true, suspended: false },
      [b]: { bond: 0n, registered: true, suspended: false },
    });

    const nextClose = epochClosesAt(schedule, 1);
    await mineAt(connection, nextClose);
    const next = await read(1, nextClose);
    assert.equal(next.emissionBudget, 500_000n * POD);
    assert.equal(next.nodes.get(A1)?.suspended, true);
    assert.deepEqual(next.accounts.get(b), { bond: await core.bondManager.read.activeBondAt([b, nextClose - 1n]), registered: true, suspended: true });
    assert.ok(next.accounts.get(b)!.bond > 499n * POD);
  });

  test("a hundred accounts and nodes read in one snapshot", async (t) => {
    const accounts = Array.from({ length: 100 }, (_, i) => getAddress(keccak256(toHex(`account ${i}`)).slice(0, 42)));
    const nodes = Array.from({ length: 100 }, (_, i) => getAddress(keccak256(toHex(`node ${i}`)).slice(0, 42)));
    const schedule = await readEpochSchedule(core.publicClient, contracts.protocolParams);
    const closesAt = epochClosesAt(schedule, 1);
    const block = await findClosingBlock(core.publicClient, closesAt);
    assert.ok(block !== null);
    const started = performance.now();
    const state = await readEpochChainState(core.publicClient, contracts, { epoch: 1, closesAt, block, nodes, accounts, models: [ENABLED] });
    const ms = performance.now() - started;
    t.diagnostic(`snapshot of 100 accounts + 100 nodes: ${ms.toFixed(0)} ms`);
    assert.equal(state.accounts.size, 100);
    assert.equal(state.nodes.size, 100);
    assert.ok(ms < 10_000, `took ${ms} ms`);
  });
});
