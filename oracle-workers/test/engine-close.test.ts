// Whole epoch closes through closeEpoch: the edges of rewards.md across epochs and accounts.
// Expected values are worked out by hand in the comments (1 POD = 1e18 wei).
//
// Most tests use FAST parameters so the arithmetic stays short: epochHours 168 (nWeek = 1),
// lambdaUp = 1e6 (E jumps straight up to Eobs), obsWindowEpochs 1 (Eobs = this epoch's base),
// boost eligibility after 1 epoch with no lifetime minimum, validators from 500 POD.
// POD amounts below ~2361 POD are exact doubles, so the w values below are exact.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { RewardParams } from "../../sdk/src/rewardParams.ts";
import { DEFAULT_REWARD_PARAMS } from "../../sdk/src/rewardParams.ts";
import type { AccountEpochInput, AccountState } from "../src/rewards/state.ts";
import type { AccountOutcome, EpochClose } from "../src/rewards/engine.ts";
import { closeEpoch } from "../src/rewards/engine.ts";

const POD = 10n ** 18n;
const FAST: RewardParams = {
  ...DEFAULT_REWARD_PARAMS,
  epochHours: 168,
  lambdaUpPpm: 1_000_000,
  obsWindowEpochs: 1,
  minHistoryEpochs: 1,
  minLifetimeBase: 0n,
  validatorMinBond: 500n * POD,
};

const address = (n: number) => `0x${n.toString(16).padStart(40, "0")}`;
const A = address(0xa);
const B = address(0xb);
const C = address(0xc);

function input(account: string, base: bigint, bond: bigint, flags: Partial<AccountEpochInput> = {}): AccountEpochInput {
  return { account, base, bond, registered: true, suspended: false, ...flags };
}

/** Closes the epochs in turn from an empty book. */
function run(params: RewardParams, epochs: readonly (readonly AccountEpochInput[])[]): EpochClose[] {
  let states: ReadonlyMap<string, AccountState> = new Map();
  return epochs.map((inputs) => {
    const close = closeEpoch(states, inputs, params);
    states = close.states;
    return close;
  });
}

function outcome(close: EpochClose | undefined, account: string): AccountOutcome {
  const found = close?.outcomes.find((o) => o.account === account);
  assert.ok(found, `no outcome for ${account}`);
  return found;
}

describe("first epochs with the default parameters (nWeek 7, 7 epochs of history, 50 POD lifetime)", () => {
  // 10 POD every epoch, 1000 POD bonded. Eobs = 10 * 7 = 70 POD each time, so
  // E(t) = (E(t-1) + 70) / 2: 35, 52.5, 61.25, 65.625, 67.8125, 68.90625, 69.453125 POD.
  const closes = run(DEFAULT_REWARD_PARAMS, Array.from({ length: 8 }, () => [input(A, 10n * POD, 1000n * POD)]));
  // the same in micro-POD (1e12 wei)
  const expectedMicroE = [35_000_000n, 52_500_000n, 61_250_000n, 65_625_000n, 67_812_500n, 68_906_250n, 69_453_125n];

  test("no history: paid 1x, E ramps up, D = E, w = bond / E", () => {
    const first = outcome(closes[0], A);
    assert.equal(first.multiplierPpm, 1_000_000);
    assert.equal(first.reward, 10n * POD);
    assert.equal(first.E, 35n * POD);
    assert.equal(first.D, 35n * POD);
    assert.equal(first.w, 1000 / 35); // 28.571428571428573
    expectedMicroE.forEach((microE, i) => {
      assert.equal(outcome(closes[i], A).E, microE * 10n ** 12n, `E after epoch ${i + 1}`);
    });
  });

  test("eligibility only at the close of the 7th epoch, boost paid from the 8th", () => {
    for (let t = 0; t < 6; t++) {
      assert.equal(outcome(closes[t], A).boostEligible, false);
      assert.equal(outcome(closes[t], A).nextMultiplierPpm, 1_000_000);
    }
    const seventh = outcome(closes[6], A);
    // closedEpochs 7 >= 7, lifetime 70 >= 50; w = 1000 / 69.453125 = 14.4 >= 13 -> +0.2;
    // one over-bonded account < 10: competition off -> 1.2x
    assert.equal(seventh.boostEligible, true);
    assert.equal(seventh.reward, 10n * POD); // still paid with the 1x snapshot
    assert.equal(seventh.nextMultiplierPpm, 1_200_000);
    const eighth = outcome(closes[7], A);
    // boostableMax = 69.453125 * 3e6 / (1e6 * 7) = 29.765625 POD > 10: reward = 10 + 10 * 0.2
    assert.equal(eighth.multiplierPpm, 1_200_000);
    assert.equal(eighth.reward, 12n * POD);
    assert.equal(eighth.cumulativeReward, 82n * POD); // 7 * 10 + 12
  });

  test("lifetime one wei short at the 7th close: not eligible; the next wei makes it", () => {
    // 6 * 7 POD + (8 POD - 1 wei) = 50 POD - 1 wei after 7 epochs; then 1 wei -> exactly 50 POD
    const bases = [7n, 7n, 7n, 7n, 7n, 7n].map((b) => b * POD).concat([8n * POD - 1n, 1n]);
    const short = run(DEFAULT_REWARD_PARAMS, bases.map((base) => [input(A, base, 1000n * POD)]));
    assert.equal(outcome(short[6], A).boostEligible, false);
    assert.equal(outcome(short[6], A).nextMultiplierPpm, 1_000_000);
    assert.equal(outcome(short[7], A).boostEligible, true);
  });
});

describe("the boostable cap and the floor of D", () => {
  test("cap binding: only rho * D / nWeek of the base is boosted", () => {
    // e1: base 10, bond 325: E = D = 10, w = 32.5 -> 1.2x next
    // e2: base 50: boostableMax = 10 * 3e6 / 1e6 = 30 < 50 -> reward = 50 + 30 * 0.2 = 56;
    //     E = D = 50, w = 325 / 50 = 6.5 -> c = 0.5 -> +0.1 -> 1.1x next
    // e3: base 50: boostableMax = 150 > 50 -> reward = 50 + 50 * 0.1 = 55
    const closes = run(FAST, [10n, 50n, 50n].map((base) => [input(A, base * POD, 325n * POD)]));
    assert.equal(outcome(closes[0], A).nextMultiplierPpm, 1_200_000);
    assert.equal(outcome(closes[1], A).reward, 56n * POD);
    assert.equal(outcome(closes[1], A).w, 6.5);
    assert.equal(outcome(closes[1], A).nextMultiplierPpm, 1_100_000);
    assert.equal(outcome(closes[2], A).reward, 55n * POD);
    assert.equal(outcome(closes[2], A).cumulativeReward, 121n * POD); // 10 + 56 + 55
  });

  test("no earnings: D = earningsFloor sets both w and the cap", () => {
    // e1: base 0 -> E = 0 -> D = 1 POD (floor); bond 6.5 POD -> w = 6.5 -> +0.1 -> 1.1x next
    // e2: base 1 POD: boostableMax = 1 * 3e6 / 1e6 = 3 POD -> reward = 1 + 1 * 0.1 = 1.1 POD
    const closes = run(FAST, [
      [input(A, 0n, 6_500_000_000_000_000_000n)],
      [input(A, POD, 6_500_000_000_000_000_000n)],
    ]);
    const first = outcome(closes[0], A);
    assert.equal(first.E, 0n);
    assert.equal(first.D, POD);
    assert.equal(first.w, 6.5);
    assert.equal(first.nextMultiplierPpm, 1_100_000);
    assert.equal(outcome(closes[1], A).reward, 1_100_000_000_000_000_000n);
  });
});

describe("validators", () => {
  // Base 100 POD every epoch keeps E = D = 100 POD, so w = bond / 100.
  const bonds = [1300n, 1000n, 999n, 1200n, 1300n];
  const closes = run(
    FAST,
    bonds.map((bond) => [input(A, 100n * POD, bond * POD), input(B, 100n * POD, 1299n * POD)]),
  );
  const validator = (t: number, account = A) => outcome(closes[t], account).validator;

  test("entry at exactly 13 weeks, not below", () => {
    assert.equal(validator(0), true); // w = 13
    assert.equal(validator(0, B), false); // w = 12.99
  });
  test("stays down to exactly 10 weeks, leaves under, and needs 13 again to return", () => {
    assert.equal(validator(1), true); // w = 10
    assert.equal(validator(2), false); // w = 9.99 (bond 999 is still above 500)
    assert.equal(validator(3), false); // w = 12 < 13
    assert.equal(validator(4), true); // w = 13
  });
  test("leaves when the bond falls one wei under validatorMinBond, whatever w", () => {
    // base 10 POD: D = 10 POD; 500 POD -> w = 50; 500 POD - 1 wei -> w = 50 as a double
    const minBond = run(FAST, [
      [input(C, 10n * POD, 500n * POD)],
      [input(C, 10n * POD, 500n * POD - 1n)],
    ]);
    assert.equal(outcome(minBond[0], C).validator, true);
    assert.equal(outcome(minBond[1], C).w, 50);
    assert.equal(outcome(minBond[1], C).validator, false);
  });
});

/** One epoch with an account per dw: base 1 wei (E = 1 wei, D = 1 POD floor), bond (13 + dw) POD. */
function competitionEpoch(excess: readonly number[], flags: (i: number) => Partial<AccountEpochInput> = () => ({})) {
  return excess.map((dw, i) => input(address(i + 1), 1n, BigInt(13 + dw) * POD, flags(i)));
}
const oneTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe("competition", () => {
  test("switched off below compMinAccounts (9 < 10): linear part only", () => {
    const [close] = run(FAST, [competitionEpoch(oneTo(9))]);
    assert.equal(close!.competition.on, false);
    assert.equal(close!.competition.size, 9);
    // w >= 13 for all -> 1e6 + 200000, no competitive part
    assert.deepEqual(close!.outcomes.map((o) => o.nextMultiplierPpm), Array(9).fill(1_200_000));
  });

  test("on at exactly compMinAccounts (10)", () => {
    // N = 10: L = 1, H = sorted[ceil(9.5) - 1] = 10, K = floor(sqrt(10)) = 3, s = floor(q * 2)
    // dw 7: rel = 6/9, soft = 0.7378, abs = 7/13 = 0.5385, q * 2 = 0.79 -> 0
    // dw 8: rel = 7/9, soft = 0.8282, abs = 8/13 = 0.6154, q * 2 = 1.02 -> 1 -> 100000 / 2 = 50000
    // dw 10: rel = 1, abs = 10/13, q * 2 = 1.54 -> 1 -> 50000
    const [close] = run(FAST, [competitionEpoch(oneTo(10))]);
    assert.equal(close!.competition.on, true);
    assert.deepEqual(close!.competition.scale, { L: 1, H: 10, K: 3 });
    const expected = [0, 0, 0, 0, 0, 0, 0, 50_000, 50_000, 50_000].map((c) => 1_200_000 + c);
    assert.deepEqual(close!.outcomes.map((o) => o.nextMultiplierPpm), expected);
  });

  test("a suspended member does not count: 10 over-bonded accounts, 1 suspended -> off", () => {
    const [close] = run(FAST, [competitionEpoch(oneTo(10), (i) => ({ suspended: i === 9 }))]);
    assert.equal(close!.competition.size, 9);
    assert.equal(close!.competition.on, false);
  });

  test("off when the set's summed E is under compMinTotalEarnings", () => {
    // 10 members with E = 1 wei each: sum 10 wei < 11 wei
    const [close] = run({ ...FAST, compMinTotalEarnings: 11n }, [competitionEpoch(oneTo(10))]);
    assert.equal(close!.competition.on, false);
  });

  // 20 members, dw = 1..20: L = 1, H = p95 = 19 (dw 20 is winsorized to 19), K = floor(sqrt 20) = 4.
  // compBoost = floor(100000 * s / 3) with s = floor(q * 3), q = ((min(dw, 19) - 1) / 18)^0.75 * min(1, dw / 13):
  //   dw 1..8 -> q*3 < 1 (dw 8: 0.4925 * 0.6154 * 3 = 0.91) -> 0
  //   dw 9..12 -> 1 <= q*3 < 2 (dw 9: 1.13, dw 12: 0.6912 * 0.9231 * 3 = 1.91) -> 33333
  //   dw 13..18 -> 2 <= q*3 < 3 (dw 13: 2.21, dw 18: 2.87) -> 66666
  //   dw 19, 20 -> q = 1 -> 100000
  const tiers = [...Array(8).fill(0), ...Array(4).fill(33_333), ...Array(6).fill(66_666), 100_000, 100_000];

  test("percentile winsorizing and tiers", () => {
    const [close] = run(FAST, [competitionEpoch(oneTo(20))]);
    assert.deepEqual(close!.competition.scale, { L: 1, H: 19, K: 4 });
    assert.deepEqual(close!.outcomes.map((o) => o.compBoostPpm), tiers);
    assert.deepEqual(close!.outcomes.map((o) => o.nextMultiplierPpm), tiers.map((c) => 1_200_000 + c));
  });

  test("the 1.3x cap binds when the parts add up to more", () => {
    // compBoostMax 0.3: comp = floor(300000 * s / 3) = 0, 100000, 200000, 300000 by tier;
    // 1e6 + 200000 + comp is capped at 1.3e6 from the second tier up
    const [close] = run({ ...FAST, compBoostMaxPpm: 300_000 }, [competitionEpoch(oneTo(20))]);
    const expected = [...Array(8).fill(1_200_000), ...Array(12).fill(1_300_000)];
    assert.deepEqual(close!.outcomes.map((o) => o.nextMultiplierPpm), expected);
  });
});

describe("suspended accounts and accounts missing from an epoch", () => {
  test("suspension stops the next boost, not the one already frozen", () => {
    // e1: eligible (w = 32.5) -> 1.2x; e2 suspended: paid 10 + 10 * 0.2 = 12, next 1x, no validator
    // e3: paid 10 at 1x
    const closes = run(FAST, [
      [input(A, 10n * POD, 325n * POD)],
      [input(A, 10n * POD, 325n * POD, { suspended: true })],
      [input(A, 10n * POD, 325n * POD)],
    ]);
    assert.equal(outcome(closes[0], A).validator, false); // bond 325 < 500
    const suspended = outcome(closes[1], A);
    assert.equal(suspended.reward, 12n * POD);
    assert.equal(suspended.boostEligible, false);
    assert.equal(suspended.nextMultiplierPpm, 1_000_000);
    assert.equal(outcome(closes[2], A).reward, 10n * POD);
  });

  test("a suspended account with a large bond is no validator", () => {
    const [close] = run(FAST, [[input(A, 10n * POD, 2000n * POD, { suspended: true })]]);
    assert.equal(outcome(close, A).validator, false);
    assert.equal(outcome(close, A).nextMultiplierPpm, 1_000_000);
  });

  test("missing: base 0, last bond and flags; listed in order of first appearance", () => {
    // e1: A base 10 bond 130 -> E = D = 10, w = 13, 1.2x next. e2: only B.
    // A in e2: reward = 0 (no base); Eobs = 0 < E -> lambdaDown: E = 10 * 0.9 = 9 POD, D = 9,
    //   w = 130 / 9 with the last bond; still eligible (registered carried) -> 1.2x
    const closes = run(FAST, [
      [input(A, 10n * POD, 130n * POD)],
      [input(B, 5n * POD, 0n)],
      [input(C, 5n * POD, 0n), input(A, 10n * POD, 130n * POD)],
    ]);
    assert.deepEqual(closes[1]!.outcomes.map((o) => o.account), [A, B]);
    assert.deepEqual(closes[2]!.outcomes.map((o) => o.account), [A, B, C]);
    const missing = outcome(closes[1], A);
    assert.equal(missing.base, 0n);
    assert.equal(missing.reward, 0n);
    assert.equal(missing.cumulativeReward, 10n * POD);
    assert.equal(missing.E, 9n * POD);
    assert.equal(missing.D, 9n * POD);
    assert.equal(missing.w, 130 / 9);
    assert.equal(missing.nextMultiplierPpm, 1_200_000);
    assert.equal(closes[1]!.states.get(A)?.closedEpochs, 2);
  });

  test("missing keeps the last flags: suspended stays suspended", () => {
    const closes = run(FAST, [
      [input(A, 10n * POD, 325n * POD, { suspended: true })],
      [input(B, 1n, 0n)],
      [input(A, 10n * POD, 325n * POD)],
    ]);
    assert.equal(outcome(closes[1], A).boostEligible, false);
    assert.equal(outcome(closes[2], A).boostEligible, true);
  });
});

describe("closeEpoch is pure", () => {
  test("the previous states are left as they were", () => {
    const [first] = run(FAST, [[input(A, 10n * POD, 325n * POD)]]);
    const before = structuredClone(first!.states);
    closeEpoch(first!.states, [input(A, 50n * POD, 0n)], FAST);
    assert.deepEqual(first!.states, before);
  });

  test("the same inputs give the same outputs", () => {
    const epochs = [competitionEpoch(oneTo(20)), competitionEpoch(oneTo(15))];
    assert.deepEqual(run(FAST, epochs), run(FAST, epochs));
  });

  test("two inputs for one account in an epoch are refused", () => {
    assert.throws(() => closeEpoch(new Map(), [input(A, 1n, 0n), input(A, 2n, 0n)], FAST), /duplicate/);
  });
});
