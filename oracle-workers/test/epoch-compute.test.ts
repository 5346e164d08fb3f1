import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { keccak256, toBytes, zeroHash, type Address } from "viem";
import type { EpochReceipt } from "../../sdk/src/epochData.ts";
import { computeEpoch, EpochInputError } from "../src/epoch/compute.ts";
import { parseEpochReport } from "../../sdk/src/epochReport.ts";
import { decodeOracleState, encodeOracleState, initialOracleState } from "../src/epoch/state.ts";
import type { EpochChainState, OracleState } from "../src/epoch/types.ts";
import { DEFAULT_REWARD_PARAMS } from "../../sdk/src/rewardParams.ts";
import type { AccountState } from "../src/rewards/state.ts";
import { CONTRACTS, POD, chainState, nodeKey, operator, shuffled, signedRecord } from "./epoch-fixture.ts";

const [A, B, C] = [operator(1), operator(2), operator(3)] as [Address, Address, Address];
const keys = [nodeKey(0), nodeKey(1), nodeKey(2), nodeKey(3)];
const nodes = [
  { key: keys[0]!.address, account: A },
  { key: keys[1]!.address, account: A },
  { key: keys[2]!.address, account: B },
  { key: keys[3]!.address, account: C },
];

/** `tokens[i]` prompt tokens (and no output) for each node key i, one receipt each. */
function receiptsFor(epoch: number, tokens: readonly number[]): Promise<EpochReceipt[]> {
  return Promise.all(
    tokens.flatMap((t, i) =>
      t === 0 ? [] : [signedRecord({ key: keys[i]!, account: nodes[i]!.account, requestId: `e${epoch}-n${i}`, epoch, promptTokens: t, completionTokens: 0 })],
    ),
  );
}

function run(chain: EpochChainState, receipts: readonly EpochReceipt[], previous: OracleState = initialOracleState()) {
  return computeEpoch({ chain, contracts: CONTRACTS, receipts, invalidations: [], previous });
}

describe("computeEpoch", () => {
  it("splits the base budget by work, floored to the wei, leaving the dust unassigned", async () => {
    // budget 1300 wei at maxMultiplier 1.3x: base budget 1000; work 1 : 2 : 4 (A has two nodes).
    const chain = chainState({ nodes, emissionBudget: 1_300n });
    const result = await run(chain, await receiptsFor(0, [1, 0, 2, 4]));
    const report = parseEpochReport(result.reportJson);
    assert.equal(report.params.baseBudget, 1_000n);
    const base = Object.fromEntries(report.accounts.map((a) => [a.account, a.base]));
    assert.deepEqual(base, { [A]: 142n, [B]: 285n, [C]: 571n }); // floor(1000·k/7); 2 wei of dust
    assert.equal(report.total, 998n);
    assert.equal(result.epochRoot.total, 998n);
    assert.deepEqual(report.accounts.map((a) => a.work), [1_000_000n, 2_000_000n, 4_000_000n]);
    assert.equal(result.accepted, 3);
  });

  it("gives every account base 0 when nobody worked, and the zero roots", async () => {
    const result = await run(chainState({ nodes }), []);
    const report = parseEpochReport(result.reportJson);
    assert.ok(report.accounts.every((a) => a.base === 0n && a.reward === 0n));
    assert.equal(report.accounts.length, 3);
    assert.equal(result.epochRoot.root, zeroHash);
    assert.equal(result.epochRoot.validatorsRoot, zeroHash);
    assert.deepEqual(report.leaves, []);
  });

  it("builds the OpenZeppelin roots over the leaves and the sorted validators", async () => {
    const previous: OracleState = {
      ...initialOracleState(),
      accounts: new Map([[C, { ...stateWith(1_300_000), validator: true, lifetime: 100n * POD, closedEpochs: 10 } as AccountState]]),
    };
    const chain = chainState({
      epoch: 0, nodes, emissionBudget: 1_300n * POD,
      accounts: { [C]: { bond: 1_000_000n * POD } },
    });
    const result = await run(chain, await receiptsFor(0, [10, 0, 20, 40]), previous);
    const report = parseEpochReport(result.reportJson);
    const oz = StandardMerkleTree.of(report.leaves.map((l) => [l.account, l.cumulative.toString()]), ["address", "uint256"]);
    assert.equal(result.epochRoot.root, oz.root);
    assert.deepEqual(result.validators, [C]);
    assert.equal(result.epochRoot.validatorsRoot, StandardMerkleTree.of([[C]], ["address"]).root);
    assert.equal(result.reportHash, keccak256(toBytes(result.reportJson)));
  });

  it("keeps the total within the emission budget even with a multiplier frozen above today's maximum", async () => {
    const previous: OracleState = { ...initialOracleState(), accounts: new Map([[A, stateWith(1_300_000)]]) };
    const params = { ...DEFAULT_REWARD_PARAMS, maxMultiplierPpm: 1_000_000 };
    const chain = chainState({ nodes, params, emissionBudget: 1_000n * POD });
    const result = await run(chain, await receiptsFor(0, [5, 0, 0, 0]), previous);
    const report = parseEpochReport(result.reportJson);
    assert.equal(report.params.baseBudget, (1_000n * POD * 1_000_000n) / 1_300_000n);
    assert.equal(report.accounts.find((a) => a.account === A)!.multiplierPpm, 1_300_000);
    assert.ok(report.total <= 1_000n * POD);
    assert.ok(report.total > 999n * POD, "the boosted account takes nearly the whole budget");
  });

  it("is byte-identical across runs, receipt orders and worker counts", async () => {
    const chain = chainState({ nodes, epoch: 0 });
    const receipts = [...(await receiptsFor(0, [3, 5, 7, 11])), ...(await receiptsFor(0, [2, 2, 2, 2])).map((r) => ({ ...r, requestId: `${r.requestId}-b` }))];
    const first = await run(chain, receipts);
    for (const seed of [7, 8]) {
      const again = await computeEpoch(
        { chain, contracts: CONTRACTS, receipts: shuffled(receipts, seed), invalidations: [], previous: initialOracleState() },
        { verify: { workers: 2, minPerWorker: 1 } },
      );
      assert.equal(again.reportJson, first.reportJson);
      assert.equal(again.reportHash, first.reportHash);
      assert.equal(encodeOracleState(again.state), encodeOracleState(first.state));
    }
  });

  it("records node keys per account and resumes identically from a decoded state", async () => {
    const chain0 = chainState({ nodes, epoch: 0 });
    const epoch0 = await run(chain0, await receiptsFor(0, [1, 1, 1, 0]));
    assert.deepEqual(epoch0.state.nodeKeys.get(A), [keys[0]!.address, keys[1]!.address].sort((x, y) => (x.toLowerCase() < y.toLowerCase() ? -1 : 1)));
    assert.equal(epoch0.state.nodeKeys.get(C), undefined);
    const decoded = decodeOracleState(encodeOracleState(epoch0.state));
    assert.deepEqual(decoded, epoch0.state);
    const chain1 = chainState({ nodes, epoch: 1 });
    const receipts1 = await receiptsFor(1, [4, 0, 2, 9]);
    const fromMemory = await run(chain1, receipts1, epoch0.state);
    const fromDisk = await run(chain1, receipts1, decoded);
    assert.equal(fromDisk.reportJson, fromMemory.reportJson);
    assert.equal(parseEpochReport(fromDisk.reportJson).previousRoot, epoch0.epochRoot.root);
  });

  it("refuses to skip an epoch or to close one twice", async () => {
    const epoch0 = await run(chainState({ nodes, epoch: 0 }), await receiptsFor(0, [1, 0, 0, 0]));
    await assert.rejects(run(chainState({ nodes, epoch: 2 }), [], epoch0.state), EpochInputError);
    await assert.rejects(run(chainState({ nodes, epoch: 0 }), [], epoch0.state), EpochInputError);
  });
});

function stateWith(multiplierPpm: number): AccountState {
  return {
    E: 1_000n * POD, lifetime: 0n, closedEpochs: 8, recent: [], validator: false, multiplierPpm, D: 1_000_000n * POD,
    boostEligible: true, cumulativeReward: 0n, lastBond: 0n, lastRegistered: true, lastSuspended: false,
  };
}
