import assert from "node:assert/strict";
import { network } from "hardhat";
import { getAddress, hexToString, zeroHash, type Hex } from "viem";
import { DAY, deployCore, paramName } from "./helpers/fixture.ts";
import { paramsAsTimelock, SAMPLE_MODEL_ID, SAMPLE_MODEL_PARAMS } from "./helpers/unit.ts";

const connection = await network.create();
const coreFixture = () => deployCore(connection);
const { viem } = connection;

const E18 = 10n ** 18n;

/** The reward engine's defaults, as in shared/specs/rewards.md, in BoostParams order. */
const REWARDS_MD_DEFAULTS = {
  epochHours: 24n,
  lambdaUpPpm: 500_000n,
  lambdaDownPpm: 100_000n,
  obsWindowEpochs: 7n,
  minHistoryEpochs: 7n,
  minLifetimeBase: 50n * E18,
  earningsFloor: 1n * E18,
  boostCapRhoPpm: 3_000_000n,
  fullWeeks: 13n,
  compWeeks: 13n,
  baseBoostMaxPpm: 200_000n,
  compBoostMaxPpm: 100_000n,
  maxMultiplierPpm: 1_300_000n,
  percentile: 95n,
  alphaPpm: 750_000n,
  kappaPpm: 1_000_000n,
  kMin: 2n,
  kMax: 11n,
  compMinAccounts: 10n,
  compMinEarnings: 0n,
  compMinTotalEarnings: 0n,
  validatorEnterWeeks: 13n,
  validatorExitWeeks: 10n,
  validatorMinBond: 100_000n * E18,
};

const ALL_NAMES = [
  ...Object.keys(REWARDS_MD_DEFAULTS),
  "epochLength",
  "epochGenesis",
  "stakeCooldown",
  "unstakeWindow",
  "unbondingPeriod",
  "bondedClaimBonusPpm",
  "maxSlashPpm",
  "slashReporterSharePpm",
  "epochEmissionBudget",
  "samplingRatePpm",
  "rootChallengeWindow",
  "buybackBurnPpm",
  "buybackStakingPpm",
  "buybackRewardsPpm",
  "buybackMaxSlippagePpm",
  "buybackTwapPeriod",
  "creditWithdrawalDelay",
  "unbondedReporterReward",
];

/** Parameters free of cross-parameter rules; their bounds are read from parameterBounds. */
const BOUNDED = [
  "maxMultiplierPpm",
  "percentile",
  "obsWindowEpochs",
  "minHistoryEpochs",
  "earningsFloor",
  "boostCapRhoPpm",
  "fullWeeks",
  "compWeeks",
  "alphaPpm",
  "compMinAccounts",
  "compMinTotalEarnings",
  "validatorMinBond",
  "epochLength",
  "epochGenesis",
  "stakeCooldown",
  "unstakeWindow",
  "unbondingPeriod",
  "bondedClaimBonusPpm",
  "maxSlashPpm",
  "samplingRatePpm",
  "rootChallengeWindow",
  "buybackMaxSlippagePpm",
  "buybackTwapPeriod",
  "unbondedReporterReward",
];

/** Bounds that the specifications fix (issue 2: 0 < lambda <= 1e6, multiplier <= 1.3e6; rewards.md): [name, min, max]. */
const SPEC_BOUNDS: Array<[string, bigint, bigint]> = [
  ["maxMultiplierPpm", 1_000_000n, 1_300_000n],
  ["lambdaUpPpm", 1n, 1_000_000n],
  ["lambdaDownPpm", 1n, 1_000_000n],
  ["epochHours", 1n, 168n],
  ["percentile", 1n, 100n],
];

const setup = () => paramsAsTimelock(connection, coreFixture);

describe("ProtocolParams", () => {
  describe("defaults", () => {
    it("reads the whole boost parameter set of rewards.md in one call", async () => {
      const { params } = await setup();
      const boost = await params.read.boostParams();
      assert.deepEqual({ ...boost }, REWARDS_MD_DEFAULTS);
      for (const [name, value] of Object.entries(REWARDS_MD_DEFAULTS)) {
        assert.equal(await params.read.getParameter([paramName(name)]), value, name);
      }
    });

    it("starts with 1-day epochs from the deployment, 90-day cooldowns and a 7-day unstake window", async () => {
      const { params, publicClient } = await setup();
      assert.equal(await params.read.stakeCooldown(), 90n * DAY);
      assert.equal(await params.read.unbondingPeriod(), 90n * DAY);
      assert.equal(await params.read.unstakeWindow(), 7n * DAY);

      // Every parameter's initial value was announced at deployment; epochGenesis is the deployment's time.
      const logs = await publicClient.getContractEvents({
        address: params.address,
        abi: params.abi,
        eventName: "ParameterChanged",
        fromBlock: 0n,
      });
      for (const label of ALL_NAMES) {
        const last = logs.filter((log) => log.args.name === paramName(label)).at(-1);
        assert.ok(last !== undefined, `no ParameterChanged for ${label}`);
        assert.equal(last.args.oldValue, 0n, label);
        assert.equal(last.args.newValue, await params.read.getParameter([paramName(label)]), label);
      }
      const genesisLog = logs.filter((log) => log.args.name === paramName("epochGenesis")).at(-1)!;
      const deployedAt = (await publicClient.getBlock({ blockNumber: genesisLog.blockNumber })).timestamp;
      assert.ok(deployedAt > 0n);
      assert.equal(genesisLog.args.newValue, deployedAt);
      assert.deepEqual(await params.read.epochSchedule(), [DAY, deployedAt]);
      assert.equal(await params.read.getParameter([paramName("epochLength")]), DAY);
      assert.equal(await params.read.getParameter([paramName("epochGenesis")]), deployedAt);
    });

    it("lists every governed parameter by name, each readable and bounded", async () => {
      const { params, timelock } = await setup();
      const names: readonly Hex[] = await params.read.parameterNames();
      assert.equal(names.length, 42);
      assert.deepEqual(
        names.map((n) => hexToString(n, { size: 32 })),
        ALL_NAMES,
      );
      for (const name of names) {
        const [min, max] = await params.read.parameterBounds([name]);
        const value = await params.read.getParameter([name]);
        assert.ok(min <= value && value <= max, hexToString(name, { size: 32 }));
      }
      assert.equal(getAddress(await params.read.owner()), timelock);
    });
  });

  describe("access and names", () => {
    it("lets only the owner (the timelock) change anything", async () => {
      const { params, alice, deployer } = await setup();
      for (const caller of [alice, deployer]) {
        const who = getAddress(caller.account.address);
        await viem.assertions.revertWithCustomErrorWithArgs(
          params.write.setParameter([paramName("percentile"), 90n], { account: caller.account }),
          params,
          "OwnableUnauthorizedAccount",
          [who],
        );
        await viem.assertions.revertWithCustomErrorWithArgs(
          params.write.setParameters([[paramName("percentile")], [90n]], { account: caller.account }),
          params,
          "OwnableUnauthorizedAccount",
          [who],
        );
        await viem.assertions.revertWithCustomErrorWithArgs(
          params.write.setModelParams([SAMPLE_MODEL_ID, SAMPLE_MODEL_PARAMS], { account: caller.account }),
          params,
          "OwnableUnauthorizedAccount",
          [who],
        );
      }
    });

    it("rejects unknown names when reading, bounding and setting", async () => {
      const { params, timelock } = await setup();
      const unknown = paramName("lambdaSidewaysPpm");
      await viem.assertions.revertWithCustomErrorWithArgs(params.read.getParameter([unknown]), params, "UnknownParameter", [unknown]);
      await viem.assertions.revertWithCustomErrorWithArgs(params.read.getParameter([zeroHash]), params, "UnknownParameter", [zeroHash]);
      await viem.assertions.revertWithCustomErrorWithArgs(params.read.parameterBounds([unknown]), params, "UnknownParameter", [unknown]);
      await viem.assertions.revertWithCustomErrorWithArgs(
        params.write.setParameter([unknown, 1n], { account: timelock }),
        params,
        "UnknownParameter",
        [unknown],
      );
      await viem.assertions.revertWithCustomErrorWithArgs(
        params.write.setParameters([[paramName("percentile"), unknown], [90n, 1n]], { account: timelock }),
        params,
        "UnknownParameter",
        [unknown],
      );
      assert.equal(await params.read.getParameter([paramName("percentile")]), 95n);
    });
  });

  describe("setParameter", () => {
    it("emits ParameterChanged(name, old, new) and stores the value", async () => {
      const { params, timelock } = await setup();
      const name = paramName("percentile");
      await viem.assertions.emitWithArgs(
        params.write.setParameter([name, 90n], { account: timelock }),
        params,
        "ParameterChanged",
        [name, 95n, 90n],
      );
      assert.equal(await params.read.getParameter([name]), 90n);
      assert.equal((await params.read.boostParams()).percentile, 90n);
      await viem.assertions.emitWithArgs(
        params.write.setParameter([paramName("stakeCooldown"), 30n * DAY], { account: timelock }),
        params,
        "ParameterChanged",
        [paramName("stakeCooldown"), 90n * DAY, 30n * DAY],
      );
      assert.equal(await params.read.stakeCooldown(), 30n * DAY);
    });

    it("accepts each bound and rejects one past it with ParameterOutOfBounds(name, value, min, max)", async () => {
      const { params, timelock } = await setup();
      for (const [label, min, max] of SPEC_BOUNDS) {
        assert.deepEqual(await params.read.parameterBounds([paramName(label)]), [min, max], label);
      }
      // Lift the withdrawal delay out of epochLength's way (it must cover two epochs).
      await params.write.setParameter([paramName("creditWithdrawalDelay"), 90n * DAY], { account: timelock });
      for (const label of BOUNDED) {
        const name = paramName(label);
        const [min, max] = await params.read.parameterBounds([name]);
        assert.ok(min <= max, label);
        if (min > 0n) {
          await viem.assertions.revertWithCustomErrorWithArgs(
            params.write.setParameter([name, min - 1n], { account: timelock }),
            params,
            "ParameterOutOfBounds",
            [name, min - 1n, min, max],
          );
        }
        await viem.assertions.revertWithCustomErrorWithArgs(
          params.write.setParameter([name, max + 1n], { account: timelock }),
          params,
          "ParameterOutOfBounds",
          [name, max + 1n, min, max],
        );
        const before = await params.read.getParameter([name]);
        await viem.assertions.emitWithArgs(
          params.write.setParameter([name, min], { account: timelock }),
          params,
          "ParameterChanged",
          [name, before, min],
        );
        await viem.assertions.emitWithArgs(
          params.write.setParameter([name, max], { account: timelock }),
          params,
          "ParameterChanged",
          [name, min, max],
        );
        assert.equal(await params.read.getParameter([name]), max, label);
      }
      const epochLength = paramName("epochLength");
      await viem.assertions.revertWithCustomErrorWithArgs(
        params.write.setParameter([epochLength, 2n ** 256n - 1n], { account: timelock }),
        params,
        "ParameterOutOfBounds",
        [epochLength, 2n ** 256n - 1n, 10n, 30n * DAY],
      );
    });

    it("bounds the smoothing gains and tier counts too (0 < lambda <= 1e6, kMin >= 2)", async () => {
      const { params, timelock } = await setup();
      const up = paramName("lambdaUpPpm");
      const down = paramName("lambdaDownPpm");
      const kMin = paramName("kMin");
      const kMax = paramName("kMax");
      const [kMinLow, kMinHigh] = await params.read.parameterBounds([kMin]);
      const [kMaxLow, kMaxHigh] = await params.read.parameterBounds([kMax]);
      assert.equal(kMinLow, 2n);
      assert.equal(kMaxLow, 2n);
      for (const [name, value, min, max] of [
        [up, 1_000_001n, 1n, 1_000_000n],
        [down, 0n, 1n, 1_000_000n],
        [kMin, 1n, 2n, kMinHigh],
        [kMax, kMaxHigh + 1n, 2n, kMaxHigh],
      ] as const) {
        await viem.assertions.revertWithCustomErrorWithArgs(
          params.write.setParameter([name, value], { account: timelock }),
          params,
          "ParameterOutOfBounds",
          [name, value, min, max],
        );
      }
      await viem.assertions.emitWithArgs(params.write.setParameter([up, 1_000_000n], { account: timelock }), params, "ParameterChanged", [
        up,
        500_000n,
        1_000_000n,
      ]);
      await viem.assertions.emitWithArgs(params.write.setParameter([down, 1n], { account: timelock }), params, "ParameterChanged", [
        down,
        100_000n,
        1n,
      ]);
      await viem.assertions.emitWithArgs(params.write.setParameter([kMax, kMaxHigh], { account: timelock }), params, "ParameterChanged", [
        kMax,
        11n,
        kMaxHigh,
      ]);
    });

    it("requires epochHours to divide the 168 hours of a week", async () => {
      const { params, timelock } = await setup();
      const name = paramName("epochHours");
      for (const bad of [5n, 10n, 25n, 167n]) {
        await viem.assertions.revertWithCustomErrorWithArgs(
          params.write.setParameter([name, bad], { account: timelock }),
          params,
          "EpochHoursNotDivisorOfWeek",
          [bad],
        );
      }
      await viem.assertions.revertWithCustomErrorWithArgs(
        params.write.setParameter([name, 0n], { account: timelock }),
        params,
        "ParameterOutOfBounds",
        [name, 0n, 1n, 168n],
      );
      await viem.assertions.revertWithCustomErrorWithArgs(
        params.write.setParameter([name, 336n], { account: timelock }),
        params,
        "ParameterOutOfBounds",
        [name, 336n, 1n, 168n],
      );
      let old = 24n;
      for (const good of [168n, 24n, 1n, 7n, 12n]) {
        await viem.assertions.emitWithArgs(params.write.setParameter([name, good], { account: timelock }), params, "ParameterChanged", [
          name,
          old,
          good,
        ]);
        old = good;
      }
      assert.equal((await params.read.boostParams()).epochHours, 12n);
    });

    it("keeps lambdaDown strictly below lambdaUp (ParameterOrderViolated, strict)", async () => {
      const { params, timelock } = await setup();
      const up = paramName("lambdaUpPpm");
      const down = paramName("lambdaDownPpm");
      await viem.assertions.revertWithCustomErrorWithArgs(
        params.write.setParameter([down, 500_000n], { account: timelock }),
        params,
        "ParameterOrderViolated",
        [down, 500_000n, up, 500_000n, true],
      );
      await viem.assertions.revertWithCustomErrorWithArgs(
        params.write.setParameter([up, 100_000n], { account: timelock }),
        params,
        "ParameterOrderViolated",
        [down, 100_000n, up, 100_000n, true],
      );
      await viem.assertions.revertWithCustomErrorWithArgs(
        params.write.setParameter([up, 50_000n], { account: timelock }),
        params,
        "ParameterOrderViolated",
        [down, 100_000n, up, 50_000n, true],
      );
      await params.write.setParameter([down, 499_999n], { account: timelock });
      await params.write.setParameter([up, 500_000n], { account: timelock });
      assert.equal(await params.read.getParameter([down]), 499_999n);
    });

    it("keeps kMin <= kMax and validatorExitWeeks <= validatorEnterWeeks (non-strict)", async () => {
      const { params, timelock } = await setup();
      const kMin = paramName("kMin");
      const kMax = paramName("kMax");
      await viem.assertions.revertWithCustomErrorWithArgs(
        params.write.setParameter([kMin, 12n], { account: timelock }),
        params,
        "ParameterOrderViolated",
        [kMin, 12n, kMax, 11n, false],
      );
      await params.write.setParameter([kMin, 11n], { account: timelock });
      await viem.assertions.revertWithCustomErrorWithArgs(
        params.write.setParameter([kMax, 10n], { account: timelock }),
        params,
        "ParameterOrderViolated",
        [kMin, 11n, kMax, 10n, false],
      );

      const exit = paramName("validatorExitWeeks");
      const enter = paramName("validatorEnterWeeks");
      await viem.assertions.revertWithCustomErrorWithArgs(
        params.write.setParameter([exit, 14n], { account: timelock }),
        params,
        "ParameterOrderViolated",
        [exit, 14n, enter, 13n, false],
      );
      await params.write.setParameter([exit, 13n], { account: timelock });
      await viem.assertions.revertWithCustomErrorWithArgs(
        params.write.setParameter([enter, 12n], { account: timelock }),
        params,
        "ParameterOrderViolated",
        [exit, 13n, enter, 12n, false],
      );
      assert.equal(await params.read.getParameter([exit]), 13n);
      assert.equal(await params.read.getParameter([enter]), 13n);
    });
  });
});
