/**
 * Reverts of the network's contracts, decoded by name and arguments from the generated ABIs, so
 * that callers branch on `name` (e.g. "TwapNotReady") and never on message text.
 */
import { BaseError, decodeErrorResult, type Hex } from "viem";
import { POD_ERRORS_ABI } from "../../../sdk/src/errors.ts";

/** Every custom error of every contract, once per signature (the SDK's list). */
export const NETWORK_ERRORS_ABI = POD_ERRORS_ABI;

/** A revert decoded: the custom error's name (or "Error" / "Panic") and its arguments. */
export type DecodedContractError = { name: string; args: readonly unknown[] };

/** The revert data carried anywhere in a viem error's cause chain (undefined when none). */
function revertData(error: unknown): Hex | undefined {
  let found: Hex | undefined;
  const visit = (e: unknown): boolean => {
    if (typeof e !== "object" || e === null) return false;
    const record = e as { raw?: unknown; data?: unknown };
    for (const candidate of [record.raw, record.data]) {
      if (typeof candidate === "string" && /^0x[0-9a-fA-F]{8,}$/.test(candidate)) {
        found = candidate as Hex;
        return true;
      }
    }
    return false;
  };
  if (error instanceof BaseError) error.walk(visit);
  else {
    // Not a viem error: follow plain `cause` links.
    let e: unknown = error;
    for (let depth = 0; depth < 10 && e !== undefined && !visit(e); depth++) e = (e as { cause?: unknown } | null)?.cause;
  }
  return found;
}

/**
 * The network custom error (or Error(string) / Panic(uint256)) that `error` reverted with, or
 * null when it is no revert (a transport failure) or carries data no ABI here knows.
 */
export function decodeContractError(error: unknown): DecodedContractError | null {
  if (error instanceof BaseError) {
    // viem already decoded it when the contract's own ABI knew the error.
    const decoded = error.walk((e) => typeof (e as { data?: { errorName?: unknown } }).data?.errorName === "string") as
      | { data: { errorName: string; args?: readonly unknown[] } }
      | null;
    if (decoded) return { name: decoded.data.errorName, args: decoded.data.args ?? [] };
  }
  const data = revertData(error);
  if (data === undefined) return null;
  try {
    const result = decodeErrorResult({ abi: NETWORK_ERRORS_ABI, data });
    return { name: result.errorName, args: result.args ?? [] };
  } catch {
    return null;
  }
}

/** A contract call that reverted, with the revert decoded. */
export class ContractRevertError extends Error {
  override name = "ContractRevertError";
  /** What was attempted, e.g. "RewardsDistributor.proposeRoot". */
  readonly operation: string;
  readonly error: DecodedContractError;
  constructor(operation: string, error: DecodedContractError, options?: { cause?: unknown }) {
    super(`${operation} reverted: ${error.name}(${error.args.map(String).join(", ")})`, options);
    this.operation = operation;
    this.error = error;
  }
}

/**
 * Rethrows `error` as a ContractRevertError when it is a decodable revert, as it is otherwise
 * (transport failures and unknown reverts keep viem's own message).
 */
export function throwDecoded(error: unknown, operation: string): never {
  const decoded = decodeContractError(error);
  if (decoded) throw new ContractRevertError(operation, decoded, { cause: error });
  throw error;
}

/** A transaction that was mined but reverted (after a successful simulation: state moved). */
export class TransactionRevertedError extends Error {
  override name = "TransactionRevertedError";
  readonly operation: string;
  readonly txHash: Hex;
  constructor(operation: string, txHash: Hex) {
    super(`${operation}: transaction ${txHash} reverted`);
    this.operation = operation;
    this.txHash = txHash;
  }
}
