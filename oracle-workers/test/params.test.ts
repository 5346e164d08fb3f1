// Parameter defaults (the table of rewards.md), bounds and invariants.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { InputError } from "../../sdk/src/jsonInput.ts";
import { DEFAULT_REWARD_PARAMS, epochsPerWeek, parseRewardParams } from "../../sdk/src/rewardParams.ts";

const E18 = 10n ** 18n;

/** Asserts that parsing fails on `field`. */
function rejects(input: unknown, field: string, message?: RegExp): void {
  assert.throws(
    () => parseRewardParams(input, "params"),
    (error: unknown) => {
      assert.ok(error instanceof InputError, String(error));
      assert.equal(error.field, field);
      if (message) assert.match(error.message, message);
      return true;
    },
  );
}

describe("defaults", () => {
  test("are the table of rewards.md", () => {
    assert.deepEqual(DEFAULT_REWARD_PARAMS, {
      epochHours: 24,
      lambdaUpPpm: 500_000,
      lambdaDownPpm: 100_000,
      obsWindowEpochs: 7,
      minHistoryEpochs: 7,
      minLifetimeBase: 50n * E18,
      earningsFloor: E18,
      boostCapRhoPpm: 3_000_000,
      fullWeeks: 13,
      compWeeks: 13,
      baseBoostMaxPpm: 200_000,
      compBoostMaxPpm: 100_000,
      maxMultiplierPpm: 1_300_000,
      percentile: 95,
      alphaPpm: 750_000,
      kappaPpm: 1_000_000,
      kMin: 2,
      kMax: 11,
      compMinAccounts: 10,
      compMinEarnings: 0n,
      compMinTotalEarnings: 0n,
      validatorEnterWeeks: 13,
      validatorExitWeeks: 10,
      validatorMinBond: 100_000n * E18,
    });
    assert.ok(Object.isFrozen(DEFAULT_REWARD_PARAMS));
    assert.equal(epochsPerWeek(DEFAULT_REWARD_PARAMS), 7);
  });
});

describe("parseRewardParams", () => {
  test("an empty object gives the defaults; a subset overrides only itself", () => {
    assert.deepEqual(parseRewardParams({}, "params"), DEFAULT_REWARD_PARAMS);
    const parsed = parseRewardParams({ lambdaUpPpm: 600_000, validatorMinBond: "5000000000000000000" }, "params");
    assert.equal(parsed.lambdaUpPpm, 600_000);
    assert.equal(parsed.validatorMinBond, 5n * E18);
    assert.equal(parsed.kMax, 11);
  });

  test("applies over a given base (scenario params, then a --params file)", () => {
    const base = parseRewardParams({ kMax: 5 }, "params");
    const merged = parseRewardParams({ kMin: 3 }, "--params", base);
    assert.equal(merged.kMax, 5);
    assert.equal(merged.kMin, 3);
    assert.throws(() => parseRewardParams({ kMin: 6 }, "--params", base), /--params\.kMin: must not exceed kMax \(5\)/);
  });

  test("epochHours 168 and 1 divide a week; nWeek follows", () => {
    assert.equal(epochsPerWeek(parseRewardParams({ epochHours: 168 }, "params")), 1);
    assert.equal(epochsPerWeek(parseRewardParams({ epochHours: 1 }, "params")), 168);
  });

  test("the 1.3x bound itself is accepted; so are lambdaUp = 1e6 and kMin = kMax", () => {
    parseRewardParams({ maxMultiplierPpm: 1_300_000, lambdaUpPpm: 1_000_000, kMin: 4, kMax: 4 }, "params");
  });
});

describe("bad parameters name the field", () => {
  test("not an object", () => rejects([], "params"));
  test("unknown parameter", () => rejects({ lambdaUp: 1 }, "params.lambdaUp", /unknown parameter/));
  test("lambdaDown >= lambdaUp", () => {
    rejects({ lambdaDownPpm: 500_000 }, "params.lambdaDownPpm", /must be below lambdaUpPpm \(500000\)/);
    rejects({ lambdaDownPpm: 600_000 }, "params.lambdaDownPpm");
  });
  test("lambda outside (0, 1e6]", () => {
    rejects({ lambdaDownPpm: 0 }, "params.lambdaDownPpm");
    rejects({ lambdaUpPpm: 1_000_001 }, "params.lambdaUpPpm");
  });
  test("epochHours must divide 168", () => {
    rejects({ epochHours: 5 }, "params.epochHours", /divide 168/);
    rejects({ epochHours: 0 }, "params.epochHours");
    rejects({ epochHours: 336 }, "params.epochHours");
  });
  test("kMin >= 2 and kMin <= kMax", () => {
    rejects({ kMin: 1 }, "params.kMin");
    rejects({ kMin: 12 }, "params.kMin", /must not exceed kMax \(11\)/);
  });
  test("maxMultiplierPpm within [1e6, 1.3e6]", () => {
    rejects({ maxMultiplierPpm: 1_300_001 }, "params.maxMultiplierPpm");
    rejects({ maxMultiplierPpm: 999_999 }, "params.maxMultiplierPpm");
  });
  test("percentile within 1..100", () => {
    rejects({ percentile: 0 }, "params.percentile");
    rejects({ percentile: 101 }, "params.percentile");
  });
  test("validatorExitWeeks must not exceed validatorEnterWeeks", () => {
    rejects({ validatorExitWeeks: 14 }, "params.validatorExitWeeks");
  });
  test("earningsFloor must be positive (it divides w)", () => rejects({ earningsFloor: "0" }, "params.earningsFloor"));
  test("a negative wei amount", () => {
    rejects({ minLifetimeBase: "-1" }, "params.minLifetimeBase", /must not be negative/);
    rejects({ minLifetimeBase: -1 }, "params.minLifetimeBase", /must not be negative/);
  });
  test("wei must be a decimal string, counts and ppm integer numbers", () => {
    rejects({ validatorMinBond: 1e23 }, "params.validatorMinBond", /decimal string/);
    rejects({ validatorMinBond: "1e23" }, "params.validatorMinBond");
    rejects({ validatorMinBond: "0x10" }, "params.validatorMinBond");
    rejects({ kMax: "11" }, "params.kMax", /integer JSON number/);
    rejects({ fullWeeks: 12.5 }, "params.fullWeeks");
    rejects({ alphaPpm: null }, "params.alphaPpm");
  });
  test("wei above uint256", () => rejects({ compMinEarnings: (1n << 256n).toString() }, "params.compMinEarnings"));
});
