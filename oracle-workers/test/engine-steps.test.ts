// The eleven steps one by one (rewards.md, "At the close of epoch t"). Every expected value is
// worked out by hand in the comment next to it.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { RewardParams } from "../../sdk/src/rewardParams.ts";
import { DEFAULT_REWARD_PARAMS } from "../../sdk/src/rewardParams.ts";
import { initialAccountState } from "../src/rewards/state.ts";
import {
  competitionScale,
  competitiveBoostPpm,
  earningsDenominator,
  excessWeeks,
  inCompetitiveSet,
  isBoostEligible,
  isCompetitionOn,
  isValidator,
  linearBoostPpm,
  nearestRankPercentile,
  nextMultiplierPpm,
  observedWeeklyEarnings,
  payEpoch,
  pushRecent,
  smoothEarnings,
  tierCount,
  weeksBonded,
} from "../src/rewards/engine.ts";

const POD = 10n ** 18n;
const P: RewardParams = DEFAULT_REWARD_PARAMS; // epochHours 24, so nWeek = 7
const with_ = (overrides: Partial<RewardParams>): RewardParams => ({ ...P, ...overrides });

describe("step 1: pay with the previous snapshot", () => {
  const snapshot = (D: bigint, multiplierPpm: number) => ({ ...initialAccountState(P), D, multiplierPpm });

  test("first epoch: initial snapshot pays exactly base", () => {
    // multiplier 1e6: reward = base + boostable * 0 / 1e6 = base
    assert.equal(payEpoch(initialAccountState(P), 10n * POD, P), 10n * POD);
  });

  test("boostable below the cap: the whole base is boosted", () => {
    // D = 7 POD: boostableMax = 7e18 * 3e6 / (1e6 * 7) = 3e18; base 2e18 < 3e18
    // reward = 2e18 + 2e18 * 200000 / 1e6 = 2e18 + 0.4e18
    assert.equal(payEpoch(snapshot(7n * POD, 1_200_000), 2n * POD, P), 2_400_000_000_000_000_000n);
  });

  test("base exactly at the cap", () => {
    // boostable = min(3e18, 3e18) = 3e18; reward = 3e18 + 3e18 * 0.2 = 3.6e18
    assert.equal(payEpoch(snapshot(7n * POD, 1_200_000), 3n * POD, P), 3_600_000_000_000_000_000n);
  });

  test("boostable cap binding: only rho * D / nWeek is boosted", () => {
    // boostable = min(10e18, 3e18) = 3e18; reward = 10e18 + 3e18 * 200000 / 1e6 = 10.6e18
    assert.equal(payEpoch(snapshot(7n * POD, 1_200_000), 10n * POD, P), 10_600_000_000_000_000_000n);
  });

  test("integer divisions floor", () => {
    // D = 1e18 (the floor): boostableMax = 3e18 / 7 = 428571428571428571.43 -> 428571428571428571
    // multiplier 1.3x: 428571428571428571 * 300000 / 1e6 = 128571428571428571.3 -> 128571428571428571
    // reward = 1e18 + 128571428571428571
    assert.equal(payEpoch(snapshot(POD, 1_300_000), POD, P), 1_128_571_428_571_428_571n);
  });

  test("nWeek enters the cap: epochHours 168 means the whole rho * D", () => {
    // nWeek = 1: boostableMax = 7e18 * 3e6 / 1e6 = 21e18; base 10e18 fully boosted: 10e18 * 1.2
    assert.equal(payEpoch(snapshot(7n * POD, 1_200_000), 10n * POD, with_({ epochHours: 168 })), 12n * POD);
  });
});

describe("steps 2-3: history and observed weekly earnings", () => {
  test("recent keeps the last obsWindowEpochs, oldest first", () => {
    assert.deepEqual(pushRecent([], 5n, 7), [5n]);
    assert.deepEqual(pushRecent([1n, 2n, 3n, 4n, 5n, 6n, 7n], 8n, 7), [2n, 3n, 4n, 5n, 6n, 7n, 8n]);
    assert.deepEqual(pushRecent([1n, 2n], 3n, 1), [3n]);
  });

  test("Eobs = sum(recent) * nWeek / len(recent), flooring", () => {
    // one epoch of 10 POD at nWeek 7: 10e18 * 7 / 1 = 70e18
    assert.equal(observedWeeklyEarnings([10n * POD], P), 70n * POD);
    // fewer epochs than the window: the mean of what there is, (10 + 0) * 7 / 2 = 35
    assert.equal(observedWeeklyEarnings([10n * POD, 0n], P), 35n * POD);
    // (1 + 2) * 7 / 2 = 21 / 2 = 10.5 -> 10 wei
    assert.equal(observedWeeklyEarnings([1n, 2n], P), 10n);
  });
});

describe("step 4: smoothing", () => {
  test("up with lambdaUp", () => {
    // (100 * (1e6 - 500000) + 200 * 500000) / 1e6 = (50e6 + 100e6) / 1e6 = 150
    assert.equal(smoothEarnings(100n, 200n, P), 150n);
    // from the initial E = 0: (0 + 70e18 * 500000) / 1e6 = 35e18
    assert.equal(smoothEarnings(0n, 70n * POD, P), 35n * POD);
  });

  test("equal counts as up (Eobs >= E) and leaves E unchanged", () => {
    // (100 * 500000 + 100 * 500000) / 1e6 = 100
    assert.equal(smoothEarnings(100n, 100n, P), 100n);
  });

  test("down with lambdaDown, flooring", () => {
    // (100 * 900000 + 50 * 100000) / 1e6 = (90e6 + 5e6) / 1e6 = 95
    assert.equal(smoothEarnings(100n, 50n, P), 95n);
    // (3 * 900000 + 0) / 1e6 = 2.7 -> 2
    assert.equal(smoothEarnings(3n, 0n, P), 2n);
  });
});

describe("step 5: boost eligibility", () => {
  const lifetime = 50n * POD; // minLifetimeBase
  test("thresholds exactly met", () => {
    // closedEpochs 7 >= 7 and lifetime 50e18 >= 50e18
    assert.equal(isBoostEligible(true, false, 7, lifetime, P), true);
  });
  test("history one epoch short", () => {
    assert.equal(isBoostEligible(true, false, 6, lifetime, P), false);
  });
  test("lifetime one wei short", () => {
    assert.equal(isBoostEligible(true, false, 7, lifetime - 1n, P), false);
  });
  test("unregistered or suspended", () => {
    assert.equal(isBoostEligible(false, false, 100, 1000n * POD, P), false);
    assert.equal(isBoostEligible(true, true, 100, 1000n * POD, P), false);
  });
});

describe("step 6: denominator and weeks bonded", () => {
  test("D is floored at earningsFloor", () => {
    assert.equal(earningsDenominator(0n, P), POD); // no earnings yet
    assert.equal(earningsDenominator(POD - 1n, P), POD);
    assert.equal(earningsDenominator(POD, P), POD);
    assert.equal(earningsDenominator(POD + 1n, P), POD + 1n);
  });
  test("w = Number(bond) / Number(D)", () => {
    assert.equal(weeksBonded(130n * POD, 10n * POD), 13);
    assert.equal(weeksBonded(0n, POD), 0);
    // 1000 / 35 = 28.571428571428573 as a double
    assert.equal(weeksBonded(1000n * POD, 35n * POD), 1000 / 35);
  });
});

describe("step 7: validator hysteresis", () => {
  const minBond = 100_000n * POD;
  test("enters at exactly validatorEnterWeeks (13)", () => {
    assert.equal(isValidator(false, true, minBond, 13, P), true);
    assert.equal(isValidator(false, true, minBond, 12.999, P), false);
  });
  test("a validator stays down to exactly validatorExitWeeks (10), leaves under it", () => {
    assert.equal(isValidator(true, true, minBond, 10, P), true);
    assert.equal(isValidator(true, true, minBond, 9.999, P), false);
  });
  test("leaves under the minimum bond whatever w", () => {
    assert.equal(isValidator(true, true, minBond - 1n, 1000, P), false);
    assert.equal(isValidator(false, true, minBond - 1n, 1000, P), false);
  });
  test("needs boost eligibility", () => {
    assert.equal(isValidator(true, false, minBond, 1000, P), false);
  });
});

describe("step 8: linear part", () => {
  test("floor(baseBoostMax * min(1, w / Tfull))", () => {
    assert.equal(linearBoostPpm(0, P), 0);
    assert.equal(linearBoostPpm(6.5, P), 100_000); // 6.5 / 13 = 0.5 -> 200000 * 0.5
    assert.equal(linearBoostPpm(13, P), 200_000);
    assert.equal(linearBoostPpm(26, P), 200_000); // capped at c = 1
    // w = 1/3: c = 1/39, 200000 / 39 = 5128.2 -> 5128
    assert.equal(linearBoostPpm(1 / 3, P), 5_128);
  });
});

describe("step 9: competitive set and switch", () => {
  test("dw = max(0, w - Tfull)", () => {
    assert.equal(excessWeeks(10, P), 0);
    assert.equal(excessWeeks(13, P), 0);
    assert.equal(excessWeeks(15.5, P), 2.5);
  });
  test("membership needs eligibility, dw > 0 and E >= compMinEarnings", () => {
    assert.equal(inCompetitiveSet(true, 0.5, 0n, P), true);
    assert.equal(inCompetitiveSet(false, 0.5, 0n, P), false);
    assert.equal(inCompetitiveSet(true, 0, 0n, P), false);
    const strict = with_({ compMinEarnings: 5n * POD });
    assert.equal(inCompetitiveSet(true, 0.5, 5n * POD, strict), true);
    assert.equal(inCompetitiveSet(true, 0.5, 5n * POD - 1n, strict), false);
  });
  test("on from compMinAccounts members and compMinTotalEarnings", () => {
    assert.equal(isCompetitionOn(9, 0n, P), false); // 9 < 10
    assert.equal(isCompetitionOn(10, 0n, P), true);
    const strict = with_({ compMinTotalEarnings: 100n * POD });
    assert.equal(isCompetitionOn(10, 100n * POD - 1n, strict), false);
    assert.equal(isCompetitionOn(10, 100n * POD, strict), true);
  });
});

describe("step 10: competitive part", () => {
  const oneToTwenty = Array.from({ length: 20 }, (_, i) => i + 1);

  test("nearest-rank percentile", () => {
    // p95 of 20 values: ceil(0.95 * 20) - 1 = 18 -> the 19th value
    assert.equal(nearestRankPercentile(oneToTwenty, 95), 19);
    assert.equal(nearestRankPercentile(oneToTwenty, 100), 20);
    assert.equal(nearestRankPercentile(oneToTwenty, 1), 1); // ceil(0.2) - 1 = 0
    assert.equal(nearestRankPercentile([1, 2, 3, 4], 50), 2); // ceil(2) - 1 = 1
    assert.equal(nearestRankPercentile([7], 95), 7);
  });

  test("tiers: K = clamp(floor(kappa * sqrt(N)), kMin, kMax)", () => {
    assert.equal(tierCount(1, P), 2); // floor(1) = 1 -> kMin 2
    assert.equal(tierCount(10, P), 3); // floor(3.16)
    assert.equal(tierCount(20, P), 4); // floor(4.47)
    assert.equal(tierCount(121, P), 11); // floor(11)
    assert.equal(tierCount(1000, P), 11); // floor(31.6) -> kMax 11
    assert.equal(tierCount(10, with_({ kappaPpm: 500_000 })), 2); // floor(1.58) = 1 -> kMin
  });

  test("scale: L = min, H = percentile, K from N (input order does not matter)", () => {
    const scale = competitionScale([...oneToTwenty].reverse(), P);
    assert.deepEqual(scale, { L: 1, H: 19, K: 4 });
  });

  // dw = 1..20, so L = 1, H = 19 (p95), K = 4; compBoost = floor(100000 * s / 3)
  const scale = { L: 1, H: 19, K: 4 };
  test("the bottom of the set gets nothing", () => {
    // rel = (1 - 1) / 18 = 0 -> soft = 0 -> s = 0
    assert.equal(competitiveBoostPpm(1, scale, P), 0);
  });
  test("mid-set accounts land in the tiers", () => {
    // dw 4: rel = 3/18, soft = (1/6)^0.75 = 0.2608, abs = 4/13 = 0.3077, q = 0.0803, q*3 = 0.24 -> s 0
    assert.equal(competitiveBoostPpm(4, scale, P), 0);
    // dw 9: rel = 8/18, soft = 0.5443, abs = 9/13 = 0.6923, q = 0.3768, q*3 = 1.13 -> s 1 -> 33333
    assert.equal(competitiveBoostPpm(9, scale, P), 33_333);
    // dw 10: rel = 0.5, soft = 0.5^0.75 = 0.5946, abs = 10/13 = 0.7692, q = 0.4574, q*3 = 1.37 -> 33333
    assert.equal(competitiveBoostPpm(10, scale, P), 33_333);
    // dw 13: rel = 12/18, soft = 0.7378, abs = 1, q*3 = 2.21 -> s 2 -> floor(200000 / 3) = 66666
    assert.equal(competitiveBoostPpm(13, scale, P), 66_666);
    // dw 18: rel = 17/18, soft = 0.9580, q*3 = 2.87 -> s 2
    assert.equal(competitiveBoostPpm(18, scale, P), 66_666);
  });
  test("percentile winsorizing: everything from H up scores the top tier", () => {
    // dw 19 and dw 20: min(dw, 19) = 19 -> rel = 1, soft = 1, abs = 1, q = 1, s = 3 -> 100000
    assert.equal(competitiveBoostPpm(19, scale, P), 100_000);
    assert.equal(competitiveBoostPpm(20, scale, P), 100_000);
    // without winsorizing (H = max = 20) dw 19 drops a tier:
    // rel = 18/19, soft = 0.9603, q*3 = 2.88 -> s 2 -> 66666
    assert.equal(competitiveBoostPpm(19, { L: 1, H: 20, K: 4 }, P), 66_666);
  });
  test("absolute score: a small dw cannot score high even at the top of the set", () => {
    // set dw in [0.5, 2]: dw 2 has rel = 1 but abs = 2/13 = 0.1538, q*3 = 0.46 -> s 0
    assert.equal(competitiveBoostPpm(2, { L: 0.5, H: 2, K: 4 }, P), 0);
  });
  test("H <= L (everyone equal): rel = 0 for all", () => {
    assert.equal(competitiveBoostPpm(50, { L: 50, H: 50, K: 3 }, P), 0);
  });
  test("tiers are multiples of compBoostMax / (K - 1)", () => {
    // K = 11: dw 30 with L = 1, H = 30: q = 1, s = 10 -> 100000; dw 16: rel = 15/29 = 0.5172,
    // soft = 0.5172^0.75 = 0.6097, abs = 1, q*10 = 6.10 -> s 6 -> 100000 * 6 / 10 = 60000
    assert.equal(competitiveBoostPpm(30, { L: 1, H: 30, K: 11 }, P), 100_000);
    assert.equal(competitiveBoostPpm(16, { L: 1, H: 30, K: 11 }, P), 60_000);
  });
});

describe("step 11: the next multiplier", () => {
  test("eligible: 1e6 + linear + competitive", () => {
    assert.equal(nextMultiplierPpm(true, 100_000, 33_333, P), 1_133_333);
  });
  test("the 1.3x cap", () => {
    assert.equal(nextMultiplierPpm(true, 200_000, 100_000, P), 1_300_000); // exactly at the cap
    // compBoostMax raised to 0.3: 1e6 + 0.2 + 0.3 = 1.5e6 -> capped at maxMultiplierPpm
    assert.equal(nextMultiplierPpm(true, 200_000, 300_000, P), 1_300_000);
    assert.equal(nextMultiplierPpm(true, 200_000, 100_000, with_({ maxMultiplierPpm: 1_250_000 })), 1_250_000);
  });
  test("not eligible: exactly 1x", () => {
    assert.equal(nextMultiplierPpm(false, 200_000, 100_000, P), 1_000_000);
  });
});
