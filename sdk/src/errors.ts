/**
 * Typed errors of the SDK. A contract revert becomes a PodContractError named after the
 * contract's custom error (`CooldownNotElapsed`, `NothingToClaim`, OpenZeppelin's
 * `ERC20InsufficientBalance`, the Governor's `GovernorUnexpectedProposalState`...), decoded
 * against the errors of every POD contract, since a call often reverts in another contract than
 * the one called (a deposit reverting in the token).
 *
 * @example
 * try { await pod.redeem({ shares }) } catch (error) {
 *   if (isPodContractError(error, "CooldownNotElapsed")) console.log(error.args[1]); // opensAt
 * }
 */
import { BaseError, decodeErrorResult, type ContractErrorArgs, type Hash, type Hex } from "viem";
import {
  bondManagerAbi,
  buybackAbi,
  creditVaultAbi,
  devStablecoinAbi,
  nodeRegistryAbi,
  nodeReportsAbi,
  podGovernorAbi,
  podTimelockAbi,
  podTokenAbi,
  protocolParamsAbi,
  rewardsDistributorAbi,
  stakedPodAbi,
} from "./abi/contracts.ts";

type AllAbis =
  | typeof podTokenAbi
  | typeof stakedPodAbi
  | typeof bondManagerAbi
  | typeof protocolParamsAbi
  | typeof podGovernorAbi
  | typeof podTimelockAbi
  | typeof nodeRegistryAbi
  | typeof creditVaultAbi
  | typeof buybackAbi
  | typeof rewardsDistributorAbi
  | typeof nodeReportsAbi
  | typeof devStablecoinAbi;

/** Every custom error of the POD contracts (and the OpenZeppelin ones they inherit). */
export type PodErrorAbiItem = Extract<AllAbis[number], { type: "error" }>;
export type PodErrorName = PodErrorAbiItem["name"];
/** The decoded arguments of the error `name`, in declaration order. */
export type PodErrorArgs<name extends PodErrorName> = ContractErrorArgs<readonly PodErrorAbiItem[], name>;

/** The error items of every POD ABI, once per signature (several contracts share ZeroShares...). */
export const POD_ERRORS_ABI: readonly PodErrorAbiItem[] = (() => {
  const abis = [podTokenAbi, stakedPodAbi, bondManagerAbi, protocolParamsAbi, podGovernorAbi, podTimelockAbi, nodeRegistryAbi, creditVaultAbi, buybackAbi, rewardsDistributorAbi, nodeReportsAbi, devStablecoinAbi];
  const seen = new Map<string, PodErrorAbiItem>();
  for (const abi of abis) {
    for (const item of abi as readonly AllAbis[number][]) {
      if (item.type !== "error") continue;
      const signature = `${item.name}(${item.inputs.map((i) => i.type).join(",")})`;
      if (!seen.has(signature)) seen.set(signature, item);
    }
  }
  return [...seen.values()];
})();

/** Base class of every error this SDK throws on purpose. */
export class PodError extends Error {
  override name = "PodError";
}

/** Where a reverted call was going: `StakedPod.redeem`. */
export type CallSite = { contract: string; functionName: string };

/**
 * A call reverted with one of the POD contracts' custom errors. `errorName` is the Solidity
 * error's name and `args` its decoded arguments; narrow both with isPodContractError.
 */
export class PodContractError<name extends PodErrorName = PodErrorName> extends PodError {
  override name = "PodContractError";
  readonly errorName: name;
  readonly args: PodErrorArgs<name>;
  /** The arguments by parameter name (unnamed ones by position). */
  readonly namedArgs: Readonly<Record<string, unknown>>;
  readonly contract: string;
  readonly functionName: string;
  /** The raw revert data. */
  readonly data: Hex;
  constructor(site: CallSite, errorName: name, args: PodErrorArgs<name>, namedArgs: Record<string, unknown>, data: Hex, options?: ErrorOptions) {
    const shown = Object.entries(namedArgs).map(([key, value]) => `${key}=${typeof value === "bigint" ? value.toString() : JSON.stringify(value)}`);
    super(`${site.contract}.${site.functionName} reverted: ${errorName}(${shown.join(", ")})`, options);
    this.errorName = errorName;
    this.args = args;
    this.namedArgs = namedArgs;
    this.contract = site.contract;
    this.functionName = site.functionName;
    this.data = data;
  }
}

/**
 * A call reverted with no POD custom error: a require message (`reason`), a panic, unknown
 * revert data, or none at all.
 */
export class PodRevertError extends PodError {
  override name = "PodRevertError";
  readonly contract: string;
  readonly functionName: string;
  readonly reason: string | undefined;
  readonly data: Hex | undefined;
  constructor(site: CallSite, reason: string | undefined, data: Hex | undefined, options?: ErrorOptions) {
    super(`${site.contract}.${site.functionName} reverted${reason === undefined ? "" : `: ${reason}`}${data === undefined || data === "0x" ? "" : ` (data ${data})`}`, options);
    this.contract = site.contract;
    this.functionName = site.functionName;
    this.reason = reason;
    this.data = data;
  }
}

/** A transaction was mined but reverted (its simulation had passed: the state moved between). */
export class PodTransactionRevertedError extends PodError {
  override name = "PodTransactionRevertedError";
  readonly hash: Hash;
  constructor(site: CallSite, hash: Hash) {
    super(`${site.contract}.${site.functionName} transaction ${hash} reverted on-chain`);
    this.hash = hash;
  }
}

/** The client lacks what an action needs (a wallet, an indexer URL, a contract address). */
export class PodConfigError extends PodError {
  override name = "PodConfigError";
}

/** The indexer answered with an error status or a body that is not what the API promises. */
export class PodIndexerError extends PodError {
  override name = "PodIndexerError";
  readonly url: string;
  readonly status: number | undefined;
  constructor(url: string, message: string, status?: number, options?: ErrorOptions) {
    super(`indexer ${url}: ${message}`, options);
    this.url = url;
    this.status = status;
  }
}

/** Whether `error` is a PodContractError, of the custom error `name` when given. */
export function isPodContractError<name extends PodErrorName>(error: unknown, name?: name): error is PodContractError<name> {
  return error instanceof PodContractError && (name === undefined || error.errorName === name);
}

/** The revert data inside a viem error (ContractFunctionRevertedError.raw, an RPC error's data), if any. */
export function revertDataOf(error: unknown): Hex | undefined {
  if (!(error instanceof BaseError)) return undefined;
  const found = error.walk((cause) => hexDataOf(cause) !== undefined);
  return found === null ? undefined : hexDataOf(found);
}

function hexDataOf(cause: unknown): Hex | undefined {
  const { raw, data } = cause as { raw?: unknown; data?: unknown };
  const nested = typeof data === "object" && data !== null ? (data as { data?: unknown }).data : undefined;
  for (const candidate of [raw, data, nested]) {
    if (typeof candidate === "string" && /^0x[0-9a-fA-F]{8,}$/.test(candidate)) return candidate as Hex;
  }
  return undefined;
}

/**
 * Turns what a simulation or a call threw into a PodContractError (POD custom error), a
 * PodRevertError (other revert), or returns `error` untouched when it is no revert at all
 * (network failure, user rejection...).
 */
export function decodePodError(error: unknown, site: CallSite): unknown {
  if (error instanceof PodError) return error;
  const data = revertDataOf(error);
  const isRevert = error instanceof BaseError && error.walk((e) => (e as { name?: string }).name === "ContractFunctionRevertedError") !== null;
  if (data === undefined) return isRevert ? new PodRevertError(site, revertReason(error), undefined, { cause: error }) : error;
  return podErrorFromData(data, site, revertReason(error), { cause: error });
}

/**
 * The typed error of revert data: a PodContractError for a POD custom error, else a
 * PodRevertError (require message, panic, unknown selector; `fallbackReason` for the last).
 */
export function podErrorFromData(data: Hex, site: CallSite, fallbackReason?: string, options?: ErrorOptions): PodContractError | PodRevertError {
  try {
    const decoded = decodeErrorResult({ abi: POD_ERRORS_ABI, data });
    const errorName: string = decoded.errorName;
    if (errorName === "Error") return new PodRevertError(site, String((decoded.args as readonly unknown[])[0]), data, options);
    if (errorName === "Panic") return new PodRevertError(site, `panic ${String((decoded.args as readonly unknown[])[0])}`, data, options);
    const args = (decoded.args ?? []) as readonly unknown[];
    const inputs = (decoded.abiItem as PodErrorAbiItem).inputs as readonly { name?: string }[];
    const named: Record<string, unknown> = {};
    args.forEach((value, i) => {
      named[inputs[i]?.name || String(i)] = value;
    });
    return new PodContractError(site, decoded.errorName as PodErrorName, args as never, named, data, options);
  } catch {
    return new PodRevertError(site, fallbackReason, data, options);
  }
}

function revertReason(error: unknown): string | undefined {
  if (!(error instanceof BaseError)) return undefined;
  const reverted = error.walk((e) => (e as { name?: string }).name === "ContractFunctionRevertedError") as { reason?: string } | null;
  return reverted?.reason ?? error.shortMessage;
}
