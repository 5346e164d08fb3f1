import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Address } from "viem";
import { computeEpoch } from "../src/epoch/compute.ts";
import { parseEpochReport } from "../../sdk/src/epochReport.ts";
import { initialOracleState } from "../src/epoch/state.ts";
import type { OracleState } from "../src/epoch/types.ts";
import { closeEpoch } from "../src/rewards/engine.ts";
import { DEFAULT_REWARD_PARAMS, epochsPerWeek } from "../../sdk/src/rewardParams.ts";
import type { AccountEpochInput, AccountState } from "../src/rewards/state.ts";
import { CONTRACTS, POD, chainState, nodeKey, operator, signedRecord } from "./epoch-fixture.ts";

const [A, B] = [operator(1), operator(2)] as [Address, Address];
const [keyA, keyB] = [nodeKey(0), nodeKey(1)];
const EPOCHS = 12;

describe("the epoch pipeline's multiplier over consecutive epochs", () => {
  it("an account with a bond of 13 weeks of earnings gets 1.2x from its eighth epoch on, as the engine says", async () => {
    // Base budget 1000 POD a day; A does 3/4 of the work every epoch: 750 POD a day, 5250 a week.
    const emissionBudget = 1_300n * POD;
    const baseOfA = 750n * POD;
    const bondOfA = 13n * BigInt(epochsPerWeek(DEFAULT_REWARD_PARAMS)) * baseOfA;
    let state: OracleState = initialOracleState();
    let engineStates = new Map<string, AccountState>();
    for (let epoch = 0; epoch < EPOCHS; epoch++) {
      const chain = chainState({
        epoch, emissionBudget,
        nodes: [{ key: keyA.address, account: A }, { key: keyB.address, account: B }],
        accounts: { [A]: { bond: bondOfA }, [B]: { bond: 0n } },
      });
      const receipts = [
        await signedRecord({ key: keyA, account: A, requestId: `a${epoch}`, epoch, promptTokens: 300, completionTokens: 0 }),
        await signedRecord({ key: keyB, account: B, requestId: `b${epoch}`, epoch, promptTokens: 100, completionTokens: 0 }),
      ];
      const result = await computeEpoch({ chain, contracts: CONTRACTS, receipts, invalidations: [], previous: state });
      state = result.state;
      const report = parseEpochReport(result.reportJson);
      const a = report.accounts.find((x) => x.account === A)!;
      const b = report.accounts.find((x) => x.account === B)!;
      assert.equal(a.base, baseOfA);
      assert.equal(a.multiplierPpm, epoch >= 7 ? 1_200_000 : 1_000_000, `epoch ${epoch}`);
      assert.equal(a.reward, epoch >= 7 ? (baseOfA * 12n) / 10n : baseOfA, `epoch ${epoch}`);
      assert.equal(b.multiplierPpm, 1_000_000, "no bond, no boost");

      // The engine alone, fed the report's inputs, says the same.
      const inputs: AccountEpochInput[] = report.accounts.map((x) => ({ account: x.account, base: x.base, bond: x.bond, registered: x.registered, suspended: x.suspended }));
      const close = closeEpoch(engineStates, inputs, DEFAULT_REWARD_PARAMS);
      engineStates = new Map(close.states);
      for (const outcome of close.outcomes) {
        const fromReport = report.accounts.find((x) => x.account === outcome.account)!;
        assert.equal(fromReport.multiplierPpm, outcome.multiplierPpm);
        assert.equal(fromReport.nextMultiplierPpm, outcome.nextMultiplierPpm);
        assert.equal(fromReport.cumulative, outcome.cumulativeReward);
      }
    }
  });
});
