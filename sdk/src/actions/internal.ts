/**
 * What every write action does: simulate first (a revert is thrown as a typed PodContractError
 * before anything is sent), send from the wallet's account, wait for the receipt, and pick the
 * events it needs. Also the allowance top-up that deposits and stakes do before sending.
 */
import {
  encodeErrorResult,
  erc20Abi,
  parseEventLogs,
  type Abi,
  type Account,
  type Address,
  type ContractEventName,
  type ContractFunctionArgs,
  type ContractFunctionName,
  type ContractFunctionReturnType,
  type Hash,
  type ParseEventLogsReturnType,
  type TransactionReceipt,
} from "viem";
import type { PodClients, PodWalletClient } from "../client.ts";
import { decodePodError, podErrorFromData, PodConfigError, PodTransactionRevertedError, type CallSite } from "../errors.ts";

/** What every write action returns, plus its own decoded values. */
export type WriteResult = { hash: Hash; receipt: TransactionReceipt };

export function walletOf(pod: PodClients): { wallet: PodWalletClient; account: Account } {
  const wallet = pod.walletClient;
  if (wallet === undefined) throw new PodConfigError("this action sends a transaction: give the client a walletClient with an account");
  return { wallet, account: wallet.account };
}

/** The sender's address, or `account` when given. */
export function senderOf(pod: PodClients, account?: Address): Address {
  if (account !== undefined) return account;
  return walletOf(pod).account.address;
}

/** viem polls every 4 s by default over HTTP: too slow for a devnet mining on each transaction. */
const MAX_POLLING_INTERVAL_MS = 1_000;

type Nonpayable = "nonpayable" | "payable";

export type ContractCall<abi extends Abi, functionName extends ContractFunctionName<abi, Nonpayable>> = {
  /** The contract's name, for error messages. */
  contract: string;
  address: Address;
  abi: abi;
  functionName: functionName;
  args: ContractFunctionArgs<abi, Nonpayable, functionName>;
};

/**
 * Simulates, sends and waits. Throws PodContractError / PodRevertError when the simulation
 * reverts, PodTransactionRevertedError when the mined transaction reverted anyway.
 */
export async function sendCall<const abi extends Abi, functionName extends ContractFunctionName<abi, Nonpayable>>(
  pod: PodClients,
  call: ContractCall<abi, functionName>,
): Promise<WriteResult & { result: ContractFunctionReturnType<abi, Nonpayable, functionName> }> {
  const { wallet, account } = walletOf(pod);
  const site: CallSite = { contract: call.contract, functionName: call.functionName };
  const parameters = { address: call.address, abi: call.abi as Abi, functionName: call.functionName as string, args: call.args as readonly unknown[], account };
  let simulated: { request: unknown; result: unknown };
  try {
    simulated = await pod.publicClient.simulateContract(parameters);
  } catch (error) {
    throw decodePodError(error, site);
  }
  let hash: Hash;
  try {
    hash = await wallet.writeContract({ ...(simulated.request as Parameters<PodWalletClient["writeContract"]>[0]), account, chain: wallet.chain ?? null });
  } catch (error) {
    throw decodePodError(error, site);
  }
  const pollingInterval = pod.pollingIntervalMs ?? Math.min(pod.publicClient.pollingInterval, MAX_POLLING_INTERVAL_MS);
  const receipt = await pod.publicClient.waitForTransactionReceipt({ hash, pollingInterval });
  if (receipt.status !== "success") throw new PodTransactionRevertedError(site, hash);
  return { hash, receipt, result: simulated.result as ContractFunctionReturnType<abi, Nonpayable, functionName> };
}

/** A view call whose revert is decoded like a write's (PodContractError). */
export async function readCall<const abi extends Abi, functionName extends ContractFunctionName<abi, "view" | "pure">>(
  pod: PodClients,
  call: { contract: string; address: Address; abi: abi; functionName: functionName; args: ContractFunctionArgs<abi, "view" | "pure", functionName> },
): Promise<ContractFunctionReturnType<abi, "view" | "pure", functionName>> {
  try {
    const result: unknown = await pod.publicClient.readContract({ address: call.address, abi: call.abi as Abi, functionName: call.functionName as string, args: call.args as readonly unknown[] });
    return result as ContractFunctionReturnType<abi, "view" | "pure", functionName>;
  } catch (error) {
    throw decodePodError(error, { contract: call.contract, functionName: call.functionName });
  }
}

/** The receipt's events named `eventName` emitted by `address`. */
export function eventsOf<const abi extends Abi, eventName extends ContractEventName<abi>>(
  receipt: TransactionReceipt,
  abi: abi,
  address: Address,
  eventName: eventName,
): ParseEventLogsReturnType<abi, eventName, true> {
  const logs = receipt.logs.filter((log) => log.address.toLowerCase() === address.toLowerCase());
  return parseEventLogs({ abi, logs, eventName, strict: true });
}

/** The one event named `eventName`; throws when the transaction did not emit it. */
export function eventOf<const abi extends Abi, eventName extends ContractEventName<abi>>(
  receipt: TransactionReceipt,
  abi: abi,
  address: Address,
  eventName: eventName,
): ParseEventLogsReturnType<abi, eventName, true>[number] {
  const event = eventsOf(receipt, abi, address, eventName)[0];
  if (event === undefined) throw new Error(`transaction ${receipt.transactionHash} emitted no ${String(eventName)} from ${address}`);
  return event;
}

/**
 * Approves `spender` for `amount` of `token` when the sender's allowance is short; returns the
 * approval's hash, or undefined when the allowance sufficed.
 */
export async function ensureAllowance(pod: PodClients, token: Address, spender: Address, amount: bigint): Promise<Hash | undefined> {
  const owner = senderOf(pod);
  const [allowance, balance] = await Promise.all([
    pod.publicClient.readContract({ address: token, abi: erc20Abi, functionName: "allowance", args: [owner, spender] }),
    pod.publicClient.readContract({ address: token, abi: erc20Abi, functionName: "balanceOf", args: [owner] }),
  ]);
  if (allowance >= amount) return undefined;
  // The transfer would revert with this error after the approval: say so before paying for one.
  if (balance < amount) {
    const data = encodeErrorResult({ abi: erc20Errors, errorName: "ERC20InsufficientBalance", args: [owner, balance, amount] });
    throw podErrorFromData(data, { contract: "ERC20", functionName: "transferFrom" });
  }
  const { hash } = await sendCall(pod, { contract: "ERC20", address: token, abi: erc20Abi, functionName: "approve", args: [spender, amount] });
  return hash;
}

/** OpenZeppelin's ERC20InsufficientBalance, as every POD token reverts with it. */
const erc20Errors = [
  {
    type: "error",
    name: "ERC20InsufficientBalance",
    inputs: [
      { name: "sender", type: "address" },
      { name: "balance", type: "uint256" },
      { name: "needed", type: "uint256" },
    ],
  },
] as const;

/** A positive amount, or a RangeError naming the field. */
export function positive(value: bigint, field: string): bigint {
  if (value <= 0n) throw new RangeError(`${field} must be positive, got ${value}`);
  return value;
}
