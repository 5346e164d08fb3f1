import assert from "node:assert/strict";
import { network } from "hardhat";
import { DAY, deployCore, paramName } from "./helpers/fixture.ts";
import { paramsAsTimelock, SAMPLE_MODEL_ID, SAMPLE_MODEL_PARAMS } from "./helpers/unit.ts";

const connection = await network.create();
const coreFixture = () => deployCore(connection);
const { viem } = connection;

const E18 = 10n ** 18n;

const emptyModel = {
  enabled: false,
  workWeightPpm: 0,
  minTokensPerSecond: 0,
  maxTokensPerSecond: 0,
  inputPricePerMTok: 0n,
  outputPricePerMTok: 0n,
};
const setup = () => paramsAsTimelock(connection, coreFixture);

describe("ProtocolParams batches and models", () => {
  describe("setParameters", () => {
    it("moves both smoothing gains at once where one at a time would break their order", async () => {
      const { params, timelock, publicClient } = await setup();
      const up = paramName("lambdaUpPpm");
      const down = paramName("lambdaDownPpm");
      // (500k, 100k) -> (50k, 20k): lowering lambdaUp alone first would put it below lambdaDown.
      await viem.assertions.revertWithCustomErrorWithArgs(
        params.write.setParameter([up, 50_000n], { account: timelock }),
        params,
        "ParameterOrderViolated",
        [down, 100_000n, up, 50_000n, true],
      );
      const batch = params.write.setParameters([[up, down], [50_000n, 20_000n]], { account: timelock });
      await viem.assertions.emitWithArgs(batch, params, "ParameterChanged", [up, 500_000n, 50_000n]);
      const receipt = await publicClient.waitForTransactionReceipt({ hash: await batch });
      assert.equal(receipt.logs.length, 2);
      const boost = await params.read.boostParams();
      assert.equal(boost.lambdaUpPpm, 50_000n);
      assert.equal(boost.lambdaDownPpm, 20_000n);

      await viem.assertions.emitWithArgs(
        params.write.setParameters([[down, up], [600_000n, 900_000n]], { account: timelock }),
        params,
        "ParameterChanged",
        [down, 20_000n, 600_000n],
      );
      assert.equal(await params.read.getParameter([up]), 900_000n);
    });

    it("checks the order rules on the batch's end state and reverts it whole", async () => {
      const { params, timelock } = await setup();
      const up = paramName("lambdaUpPpm");
      const down = paramName("lambdaDownPpm");
      const percentile = paramName("percentile");
      await viem.assertions.revertWithCustomErrorWithArgs(
        params.write.setParameters([[percentile, up, down], [90n, 300_000n, 300_000n]], { account: timelock }),
        params,
        "ParameterOrderViolated",
        [down, 300_000n, up, 300_000n, true],
      );
      await viem.assertions.revertWithCustomErrorWithArgs(
        params.write.setParameters([[percentile, up], [90n, 0n]], { account: timelock }),
        params,
        "ParameterOutOfBounds",
        [up, 0n, 1n, 1_000_000n],
      );
      await viem.assertions.revertWithCustomErrorWithArgs(
        params.write.setParameters([[percentile, paramName("epochHours")], [90n, 5n]], { account: timelock }),
        params,
        "EpochHoursNotDivisorOfWeek",
        [5n],
      );
      assert.equal(await params.read.getParameter([percentile]), 95n);
      assert.equal(await params.read.getParameter([up]), 500_000n);
    });

    it("keeps the buyback split whole: one share alone reverts BuybackSplitNotWhole(sum), a batch moves", async () => {
      const { params, timelock } = await setup();
      const [burn, staking, rewards] = ["buybackBurnPpm", "buybackStakingPpm", "buybackRewardsPpm"].map(paramName);
      assert.deepEqual(await params.read.buybackSplit(), [500_000n, 300_000n, 200_000n]);
      await viem.assertions.revertWithCustomErrorWithArgs(
        params.write.setParameter([burn!, 400_000n], { account: timelock }),
        params,
        "BuybackSplitNotWhole",
        [900_000n],
      );
      await viem.assertions.emitWithArgs(
        params.write.setParameters([[burn!, rewards!], [400_000n, 300_000n]], { account: timelock }),
        params,
        "ParameterChanged",
        [rewards!, 200_000n, 300_000n],
      );
      assert.deepEqual(await params.read.buybackSplit(), [400_000n, 300_000n, 300_000n]);
      assert.equal(await params.read.getParameter([staking!]), 300_000n);
    });

    it("keeps the credit withdrawal delay at least two epochs long, whichever of the two moves", async () => {
      const { params, timelock } = await setup();
      const delay = paramName("creditWithdrawalDelay");
      const epochLength = paramName("epochLength");
      await viem.assertions.revertWithCustomErrorWithArgs(
        params.write.setParameter([delay, 2n * DAY - 1n], { account: timelock }),
        params,
        "WithdrawalDelayTooShort",
        [2n * DAY - 1n, DAY],
      );
      await viem.assertions.emitWithArgs(
        params.write.setParameter([delay, 2n * DAY], { account: timelock }),
        params,
        "ParameterChanged",
        [delay, 3n * DAY, 2n * DAY],
      );
      await viem.assertions.revertWithCustomErrorWithArgs(
        params.write.setParameter([epochLength, DAY + 1n], { account: timelock }),
        params,
        "WithdrawalDelayTooShort",
        [2n * DAY, DAY + 1n],
      );
    });

    it("rejects names and values of different lengths", async () => {
      const { params, timelock } = await setup();
      const percentile = paramName("percentile");
      await viem.assertions.revertWithCustomErrorWithArgs(
        params.write.setParameters([[percentile, percentile], [90n]], { account: timelock }),
        params,
        "LengthMismatch",
        [2n, 1n],
      );
      await viem.assertions.revertWithCustomErrorWithArgs(
        params.write.setParameters([[], [1n]], { account: timelock }),
        params,
        "LengthMismatch",
        [0n, 1n],
      );
    });
  });

  describe("model parameters", () => {
    it("reads all-zero settings for a model never configured", async () => {
      const { params } = await setup();
      assert.deepEqual(await params.read.modelParams([SAMPLE_MODEL_ID]), emptyModel);
    });

    it("sets a model's settings with ModelParamsChanged(id, old, new) and reads them back", async () => {
      const { params, timelock } = await setup();
      await viem.assertions.emitWithArgs(
        params.write.setModelParams([SAMPLE_MODEL_ID, SAMPLE_MODEL_PARAMS], { account: timelock }),
        params,
        "ModelParamsChanged",
        [SAMPLE_MODEL_ID, emptyModel, SAMPLE_MODEL_PARAMS],
      );
      assert.deepEqual(await params.read.modelParams([SAMPLE_MODEL_ID]), SAMPLE_MODEL_PARAMS);

      const repriced = { ...SAMPLE_MODEL_PARAMS, outputPricePerMTok: 8n * E18, minTokensPerSecond: 500, workWeightPpm: 1_000_000_000 };
      await viem.assertions.emitWithArgs(
        params.write.setModelParams([SAMPLE_MODEL_ID, repriced], { account: timelock }),
        params,
        "ModelParamsChanged",
        [SAMPLE_MODEL_ID, SAMPLE_MODEL_PARAMS, repriced],
      );
      assert.deepEqual(await params.read.modelParams([SAMPLE_MODEL_ID]), repriced);
    });

    it("rejects inverted speed bounds and a work weight above 1e9 ppm with InvalidModelParams(id)", async () => {
      const { params, timelock } = await setup();
      await viem.assertions.revertWithCustomErrorWithArgs(
        params.write.setModelParams([SAMPLE_MODEL_ID, { ...SAMPLE_MODEL_PARAMS, minTokensPerSecond: 501 }], { account: timelock }),
        params,
        "InvalidModelParams",
        [SAMPLE_MODEL_ID],
      );
      await viem.assertions.revertWithCustomErrorWithArgs(
        params.write.setModelParams([SAMPLE_MODEL_ID, { ...SAMPLE_MODEL_PARAMS, workWeightPpm: 1_000_000_001 }], { account: timelock }),
        params,
        "InvalidModelParams",
        [SAMPLE_MODEL_ID],
      );
      assert.deepEqual(await params.read.modelParams([SAMPLE_MODEL_ID]), emptyModel);
    });
  });
});
