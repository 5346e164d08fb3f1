/** Decoding reverts of the network's contracts by name and arguments, from any error chain. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { encodeErrorResult, parseAbi, RawContractError, zeroAddress, type Hex } from "viem";
import { ContractRevertError, decodeContractError, NETWORK_ERRORS_ABI, throwDecoded } from "../src/chain/errors.ts";

const ASSET = "0x00000000000000000000000000000000000000AA";

describe("decodeContractError", () => {
  test("knows every contract's custom errors once, OpenZeppelin's included", () => {
    const names: string[] = NETWORK_ERRORS_ABI.map((e) => e.name);
    for (const name of ["TwapNotReady", "GrantExpired", "QuorumNotReached", "FutureLookup", "UnknownParameter", "ERC20InsufficientBalance"]) {
      assert.ok(names.includes(name), name);
    }
  });

  test("decodes raw revert data anywhere in the cause chain (a revert of a nested call)", () => {
    const data = encodeErrorResult({ abi: NETWORK_ERRORS_ABI, errorName: "TwapNotReady", args: [ASSET, 1234n] });
    assert.deepEqual(decodeContractError(new RawContractError({ data })), { name: "TwapNotReady", args: [ASSET, 1234n] });
    const wrapped = new Error("outer", { cause: { message: "inner", data } });
    assert.deepEqual(decodeContractError(wrapped), { name: "TwapNotReady", args: [ASSET, 1234n] });
  });

  test("Error(string) decodes; transport failures and unknown selectors are null", () => {
    const data = encodeErrorResult({ abi: parseAbi(["error Error(string)"]), errorName: "Error", args: ["nope"] });
    assert.deepEqual(decodeContractError(new RawContractError({ data })), { name: "Error", args: ["nope"] });
    assert.equal(decodeContractError(new Error("ECONNREFUSED")), null);
    const unknown = encodeErrorResult({ abi: parseAbi(["error NotOurs(address)"]), errorName: "NotOurs", args: [zeroAddress] });
    assert.equal(decodeContractError(new RawContractError({ data: unknown as Hex })), null);
  });

  test("throwDecoded names the operation; undecodable errors pass through unchanged", () => {
    const data = encodeErrorResult({ abi: NETWORK_ERRORS_ABI, errorName: "NothingToBuy", args: [ASSET] });
    assert.throws(() => throwDecoded(new RawContractError({ data }), "Buyback.buyBack"), (error: unknown) => {
      assert.ok(error instanceof ContractRevertError);
      assert.equal(error.message, `Buyback.buyBack reverted: NothingToBuy(${ASSET})`);
      return true;
    });
    const plain = new Error("socket hang up");
    assert.throws(() => throwDecoded(plain, "x"), (error: unknown) => error === plain);
  });
});
