/**
 * The SDK's decoding of revert data and of the indexer's claim JSON, without a chain: custom
 * errors of any POD contract by name, require messages and panics as PodRevertError, foreign
 * selectors kept as data, and every malformed claim field named.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ContractFunctionExecutionError, ContractFunctionRevertedError, encodeErrorResult, getAddress, type Abi, type Hex } from "viem";
import { stakedPodAbi } from "../src/abi/StakedPod.ts";
import { parseClaimData } from "../src/actions/rewards.ts";
import { decodePodError, isPodContractError, PodContractError, PodIndexerError, PodRevertError, POD_ERRORS_ABI } from "../src/errors.ts";

const site = { contract: "StakedPod", functionName: "redeem" };
const ALICE = getAddress("0x70997970c51812dc3a010c7d01b50e0d17dc79c8");

/** What viem throws when a simulation reverts with `data`. */
function reverted(data: Hex): ContractFunctionExecutionError {
  const cause = new ContractFunctionRevertedError({ abi: [] as Abi, data, functionName: "redeem" });
  return new ContractFunctionExecutionError(cause, { abi: [] as Abi, functionName: "redeem" });
}

describe("SDK revert decoding", () => {
  test("names a custom error of any POD contract, even one the called ABI lacks", () => {
    const data = encodeErrorResult({ abi: stakedPodAbi, errorName: "CooldownNotElapsed", args: [ALICE, 1234n] });
    const error = decodePodError(reverted(data), site);
    assert.ok(isPodContractError(error, "CooldownNotElapsed"));
    assert.deepEqual(error.args, [ALICE, 1234n]);
    assert.deepEqual(error.namedArgs, { owner: ALICE, opensAt: 1234n });
    assert.equal(error.message, `StakedPod.redeem reverted: CooldownNotElapsed(owner="${ALICE}", opensAt=1234)`);
    assert.ok(!isPodContractError(error, "NothingToClaim"));

    const governor = encodeErrorResult({ abi: POD_ERRORS_ABI, errorName: "GovernorInsufficientProposerVotes", args: [ALICE, 1n, 2n] });
    assert.equal((decodePodError(reverted(governor), site) as PodContractError).errorName, "GovernorInsufficientProposerVotes");
  });

  test("a require message, a panic and a foreign selector become PodRevertError; other failures pass through", () => {
    const message = decodePodError(reverted("0x08c379a00000000000000000000000000000000000000000000000000000000000000020000000000000000000000000000000000000000000000000000000000000000462616e6b00000000000000000000000000000000000000000000000000000000"), site);
    assert.ok(message instanceof PodRevertError);
    assert.equal(message.reason, "bank");
    const panic = decodePodError(reverted("0x4e487b710000000000000000000000000000000000000000000000000000000000000011"), site);
    assert.ok(panic instanceof PodRevertError && panic.reason === "panic 17");
    const foreign = decodePodError(reverted("0xdeadbeef"), site);
    assert.ok(foreign instanceof PodRevertError && foreign.data === "0xdeadbeef");
    const network = new Error("socket hang up");
    assert.equal(decodePodError(network, site), network);
  });
});

describe("SDK claim JSON", () => {
  const good = { account: ALICE.toLowerCase(), epoch: 3, root: `0x${"ab".repeat(32)}`, cumulative: "100", claimed: "40", claimable: "60", proof: [`0x${"01".repeat(32)}`] };

  test("reads the indexer's shape, checksumming the account", () => {
    const claim = parseClaimData(good, "test");
    assert.deepEqual(claim, { ...good, account: ALICE, cumulative: 100n, claimed: 40n, claimable: 60n });
    assert.equal(parseClaimData({ ...good, epoch: null, proof: [] }, "test").epoch, null);
  });

  test("names the malformed field", () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ ...good, account: "0x12" }, "account"],
      [{ ...good, epoch: -1 }, "epoch"],
      [{ ...good, epoch: "3" }, "epoch"],
      [{ ...good, cumulative: "1e18" }, "cumulative"],
      [{ ...good, claimed: 40 }, "claimed"],
      [{ ...good, claimable: "-1" }, "claimable"],
      [{ ...good, root: "0x12" }, "root"],
      [{ ...good, proof: "0x" }, "proof"],
      [{ ...good, proof: ["0x1234"] }, "proof[0]"],
    ];
    for (const [body, field] of cases) {
      assert.throws(() => parseClaimData(body, "test"), (error: unknown) => error instanceof PodIndexerError && error.message.includes(`field ${field} `), field);
    }
    assert.throws(() => parseClaimData([], "test"), PodIndexerError);
  });
});
