/**
 * Runs a scenario through the engine epoch by epoch, builds each epoch's root, and renders the
 * result JSON exactly as rewards.md shows it (wei as decimal strings, ppm and w as JSON numbers).
 */
import type { Hex } from "viem";
import type { AccountOutcome, CompetitionSummary } from "../rewards/engine.ts";
import { closeEpoch } from "../rewards/engine.ts";
import type { AccountState } from "../rewards/state.ts";
import { CumulativeRewardTree } from "../../../sdk/src/merkle/tree.ts";
import type { Scenario } from "./scenario.ts";

export type SimulatedEpoch = {
  /** Every account seen so far, in order of first appearance. */
  readonly outcomes: readonly AccountOutcome[];
  readonly competition: CompetitionSummary;
  /** Root over the accounts with a positive cumulative reward (EMPTY_ROOT when none). */
  readonly root: Hex;
};

/** The root committed after an epoch: over every account whose cumulative reward is above zero. */
export function epochRoot(outcomes: readonly AccountOutcome[]): Hex {
  const leaves = outcomes
    .filter((o) => o.cumulativeReward > 0n)
    .map((o) => ({ account: o.account, cumulativeReward: o.cumulativeReward }));
  return CumulativeRewardTree.build(leaves).root;
}

export function runScenario(scenario: Scenario): SimulatedEpoch[] {
  let states: ReadonlyMap<string, AccountState> = new Map();
  return scenario.epochs.map((inputs) => {
    const close = closeEpoch(states, inputs, scenario.params);
    states = close.states;
    return { outcomes: close.outcomes, competition: close.competition, root: epochRoot(close.outcomes) };
  });
}

/** The result object of rewards.md, key order included. */
export function resultObject(epochs: readonly SimulatedEpoch[]): unknown {
  return {
    epochs: epochs.map((epoch) => ({
      accounts: epoch.outcomes.map((o) => ({
        account: o.account,
        reward: o.reward.toString(),
        cumulativeReward: o.cumulativeReward.toString(),
        multiplierPpm: o.multiplierPpm,
        nextMultiplierPpm: o.nextMultiplierPpm,
        boostEligible: o.boostEligible,
        validator: o.validator,
        E: o.E.toString(),
        D: o.D.toString(),
        w: o.w,
      })),
      root: epoch.root,
    })),
  };
}
