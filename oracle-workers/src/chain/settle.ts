/**
 * Settling one epoch's credit usage (CreditVault.settle, the gateway's call): grants already
 * settled up to their cumulative are skipped, so a re-run sends nothing; each batch is simulated
 * first and a grant that makes it revert (expired, revoked, over its cap, short of credit...) is
 * dropped by the decoded error and reported, so one bad grant never blocks the others.
 */
import { getAddress, isAddressEqual, type Address, type Hash, type Hex } from "viem";
import { creditVaultAbi } from "../../../sdk/src/abi/contracts.ts";
import type { EpochGrantUsage, EpochUsage } from "../../../sdk/src/epochData.ts";
import type { ChainReader, ChainWriter } from "./client.ts";
import { decodeContractError, throwDecoded, TransactionRevertedError, type DecodedContractError } from "./errors.ts";

export type SettleLogLevel = "debug" | "info" | "warn" | "error";
export type SettleLogger = (level: SettleLogLevel, message: string, fields?: Record<string, unknown>) => void;

export type SettleOptions = { batchSize?: number; log?: SettleLogger };

export type SettleResult = {
  settled: { grantId: Hex; cumulative: bigint; txHash: Hash }[];
  /** Grants whose on-chain spend already reaches their cumulative. */
  skipped: number;
  dropped: { grantId: Hex; error: string; args: readonly unknown[] }[];
  txHashes: Hash[];
};

/** The wallet is not the gateway of a grant it was asked to settle (the vault would refuse it). */
export class NotGrantGatewayError extends Error {
  override name = "NotGrantGatewayError";
  readonly grantId: Hex;
  readonly gateway: Address;
  readonly wallet: Address;
  constructor(grantId: Hex, gateway: Address, wallet: Address) {
    super(`grant ${grantId} belongs to gateway ${gateway}; the settling wallet is ${wallet}`);
    this.grantId = grantId;
    this.gateway = gateway;
    this.wallet = wallet;
  }
}

type Client = Pick<ChainReader, "readContract" | "simulateContract" | "waitForTransactionReceipt">;

/** One entry to settle, with the vault's spend before it (for mapping InsufficientCredit back). */
type Pending = { usage: EpochGrantUsage; spent: bigint };

export async function settleEpochUsage(
  wallet: ChainWriter,
  client: Client,
  vault: Address,
  epoch: number,
  usage: EpochUsage,
  options: SettleOptions = {},
): Promise<SettleResult> {
  const batchSize = options.batchSize ?? 100;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  const sender = getAddress(wallet.account.address);
  for (const u of usage.data) {
    if (!isAddressEqual(u.grant.gateway, sender)) throw new NotGrantGatewayError(u.grantId, getAddress(u.grant.gateway), sender);
  }
  const spent = await Promise.all(
    usage.data.map((u) => client.readContract({ address: vault, abi: creditVaultAbi, functionName: "spentOf", args: [u.grantId] })),
  );
  const pending: Pending[] = [];
  usage.data.forEach((u, i) => {
    if (spent[i]! < u.cumulative) pending.push({ usage: u, spent: spent[i]! });
  });
  const result: SettleResult = { settled: [], skipped: usage.data.length - pending.length, dropped: [], txHashes: [] };

  for (let start = 0; start < pending.length; start += batchSize) {
    let batch = pending.slice(start, start + batchSize);
    let request;
    while (batch.length > 0) {
      try {
        ({ request } = await client.simulateContract({
          address: vault,
          abi: creditVaultAbi,
          functionName: "settle",
          args: [BigInt(epoch), batch.map(toUsage)],
          account: wallet.account,
        }));
        break;
      } catch (error) {
        const decoded = decodeContractError(error);
        if (decoded === null) throw error;
        const culprit = await offendingEntry(client, vault, batch, decoded);
        if (culprit === undefined) throwDecoded(error, "CreditVault.settle");
        result.dropped.push({ grantId: culprit.usage.grantId, error: decoded.name, args: decoded.args });
        options.log?.("warn", "grant dropped from settlement", { epoch, grantId: culprit.usage.grantId, error: decoded.name, args: decoded.args.map(String) });
        batch = batch.filter((p) => p !== culprit);
      }
    }
    if (batch.length === 0 || request === undefined) continue;
    const txHash = await wallet.writeContract({ ...request, chain: wallet.chain, account: wallet.account });
    const receipt = await client.waitForTransactionReceipt({ hash: txHash });
    if (receipt.status !== "success") throw new TransactionRevertedError("CreditVault.settle", txHash);
    result.txHashes.push(txHash);
    for (const p of batch) result.settled.push({ grantId: p.usage.grantId, cumulative: p.usage.cumulative, txHash });
  }
  return result;
}

function toUsage(p: Pending) {
  return { grant: p.usage.grant, signature: p.usage.signature, cumulativeSpent: p.usage.cumulative };
}

/**
 * The batch entry a settle revert names: by grant id (the first bytes32 argument, or
 * NonceAlreadyUsed's third), or for InsufficientCredit(account, asset, needed, balance) the entry
 * of that account and asset that the vault was charging when its credit ran out.
 */
async function offendingEntry(client: Client, vault: Address, batch: readonly Pending[], error: DecodedContractError): Promise<Pending | undefined> {
  const grantId = error.args.find((a): a is Hex => typeof a === "string" && /^0x[0-9a-fA-F]{64}$/.test(a));
  if (grantId !== undefined) return batch.find((p) => p.usage.grantId.toLowerCase() === grantId.toLowerCase());
  if (error.name !== "InsufficientCredit") return undefined;
  const [account, asset, needed, balance] = error.args as [Address, Address, bigint, bigint];
  const same = batch.filter((p) => isAddressEqual(p.usage.grant.account, account) && isAddressEqual(p.usage.grant.asset, asset));
  const credit = await client.readContract({ address: vault, abi: creditVaultAbi, functionName: "creditOf", args: [account, asset] });
  // Entries are charged in order: the failing one is where the credit left equals `balance`.
  let charged = 0n;
  for (const p of same) {
    const charge = p.usage.cumulative - p.spent;
    if (charge === needed && credit - charged === balance) return p;
    charged += charge;
  }
  return same.find((p) => p.usage.cumulative - p.spent === needed) ?? same[0];
}
