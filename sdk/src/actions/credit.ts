/**
 * Prepaid inference credit on the CreditVault: deposit (approving the asset when the allowance is
 * short), and the delayed withdrawal: request, then complete once ready (or cancel).
 */
import type { Address, Hash } from "viem";
import { creditVaultAbi } from "../abi/CreditVault.ts";
import type { PodClients } from "../client.ts";
import { ensureAllowance, eventOf, positive, sendCall, type WriteResult } from "./internal.ts";

export type DepositCreditParameters = {
  /** The accepted asset (POD or the stablecoin) in its smallest unit. */
  asset: Address;
  amount: bigint;
  /** Credit this account instead of the sender (CreditVault.depositFor). */
  account?: Address | undefined;
};
export type DepositCreditReturnType = WriteResult & { account: Address; amount: bigint; approvalHash: Hash | undefined };

/**
 * Deposits `amount` of `asset` as credit. Errors: AssetNotAccepted, ZeroAmount,
 * ERC20InsufficientBalance (the sender's balance is short).
 */
export async function depositCredit(pod: PodClients, parameters: DepositCreditParameters): Promise<DepositCreditReturnType> {
  const amount = positive(parameters.amount, "amount");
  const vault = pod.contracts.creditVault;
  const approvalHash = await ensureAllowance(pod, parameters.asset, vault, amount);
  const common = { contract: "CreditVault", address: vault, abi: creditVaultAbi } as const;
  const sent =
    parameters.account === undefined
      ? await sendCall(pod, { ...common, functionName: "deposit", args: [parameters.asset, amount] })
      : await sendCall(pod, { ...common, functionName: "depositFor", args: [parameters.account, parameters.asset, amount] });
  const event = eventOf(sent.receipt, creditVaultAbi, vault, "CreditDeposited");
  return { hash: sent.hash, receipt: sent.receipt, account: event.args.account, amount: event.args.amount, approvalHash };
}

export type RequestCreditWithdrawalParameters = { asset: Address; amount: bigint };
export type RequestCreditWithdrawalReturnType = WriteResult & { amount: bigint; readyAt: bigint };

/** Asks to withdraw `amount` of `asset` credit (replacing a pending request); returns when it is payable. Errors: ZeroAmount. */
export async function requestCreditWithdrawal(pod: PodClients, parameters: RequestCreditWithdrawalParameters): Promise<RequestCreditWithdrawalReturnType> {
  const vault = pod.contracts.creditVault;
  const sent = await sendCall(pod, { contract: "CreditVault", address: vault, abi: creditVaultAbi, functionName: "requestWithdrawal", args: [parameters.asset, positive(parameters.amount, "amount")] });
  const event = eventOf(sent.receipt, creditVaultAbi, vault, "WithdrawalRequested");
  return { hash: sent.hash, receipt: sent.receipt, amount: event.args.amount, readyAt: event.args.readyAt };
}

/** Cancels the pending withdrawal of `asset`. Errors: NoPendingWithdrawal. */
export async function cancelCreditWithdrawal(pod: PodClients, parameters: { asset: Address }): Promise<WriteResult & { amount: bigint }> {
  const vault = pod.contracts.creditVault;
  const sent = await sendCall(pod, { contract: "CreditVault", address: vault, abi: creditVaultAbi, functionName: "cancelWithdrawal", args: [parameters.asset] });
  const event = eventOf(sent.receipt, creditVaultAbi, vault, "WithdrawalCancelled");
  return { hash: sent.hash, receipt: sent.receipt, amount: event.args.amount };
}

/**
 * Pays the pending withdrawal of `asset` (capped at the credit left after settlement); returns
 * the amount paid. Errors: NoPendingWithdrawal, WithdrawalNotReady.
 */
export async function completeCreditWithdrawal(pod: PodClients, parameters: { asset: Address }): Promise<WriteResult & { amount: bigint }> {
  const vault = pod.contracts.creditVault;
  const sent = await sendCall(pod, { contract: "CreditVault", address: vault, abi: creditVaultAbi, functionName: "completeWithdrawal", args: [parameters.asset] });
  const event = eventOf(sent.receipt, creditVaultAbi, vault, "WithdrawalCompleted");
  return { hash: sent.hash, receipt: sent.receipt, amount: event.args.amount };
}
