/**
 * Triggering the buyback of the revenue settlement forwarded: one buyBack per asset holding a
 * balance. A TWAP not ready yet (or stale) is the normal first state of a stablecoin's route:
 * it is observed and reported as waiting, not as a failure; the next epoch's run buys it back.
 */
import { erc20Abi, type Address, type Hash } from "viem";
import { buybackAbi } from "../../../sdk/src/abi/contracts.ts";
import type { ChainReader, ChainWriter } from "./client.ts";
import { decodeContractError, TransactionRevertedError, type DecodedContractError } from "./errors.ts";

export type BuybackOutcome =
  | { asset: Address; outcome: "bought"; amountIn: bigint; podOut: bigint; txHash: Hash }
  /** The TWAP cannot price the asset yet: `txHash` is the observe call when one was due. */
  | { asset: Address; outcome: "waitingForTwap"; reason: DecodedContractError; txHash?: Hash }
  | { asset: Address; outcome: "skipped"; reason: "no balance" | DecodedContractError }
  | { asset: Address; outcome: "failed"; error: DecodedContractError };

type Client = Pick<ChainReader, "readContract" | "simulateContract" | "waitForTransactionReceipt">;

const WAIT_FOR_TWAP = new Set(["TwapNotReady", "TwapStale"]);
const SKIP = new Set(["NothingToBuy", "NoRoute"]);

/**
 * Buys back each asset's whole balance at `buyback`, asset by asset; one asset's failure does not
 * stop the others. Transport failures (no revert data) are thrown.
 */
export async function runBuyback(wallet: ChainWriter, client: Client, buyback: Address, assets: readonly Address[]): Promise<BuybackOutcome[]> {
  const outcomes: BuybackOutcome[] = [];
  for (const asset of assets) outcomes.push(await buyBackAsset(wallet, client, buyback, asset));
  return outcomes;
}

async function buyBackAsset(wallet: ChainWriter, client: Client, buyback: Address, asset: Address): Promise<BuybackOutcome> {
  const balance = await client.readContract({ address: asset, abi: erc20Abi, functionName: "balanceOf", args: [buyback] });
  if (balance === 0n) return { asset, outcome: "skipped", reason: "no balance" };
  let simulation;
  try {
    simulation = await client.simulateContract({ address: buyback, abi: buybackAbi, functionName: "buyBack", args: [asset, balance], account: wallet.account });
  } catch (error) {
    const decoded = decodeContractError(error);
    if (decoded === null) throw error;
    if (WAIT_FOR_TWAP.has(decoded.name)) return observe(wallet, client, buyback, asset, decoded);
    if (SKIP.has(decoded.name)) return { asset, outcome: "skipped", reason: decoded };
    return { asset, outcome: "failed", error: decoded };
  }
  const txHash = await send(wallet, client, simulation.request, "Buyback.buyBack");
  return { asset, outcome: "bought", amountIn: balance, podOut: simulation.result, txHash };
}

/** Records a TWAP observation when one is due (observe reverts TwapNotReady while the newest is young). */
async function observe(wallet: ChainWriter, client: Client, buyback: Address, asset: Address, reason: DecodedContractError): Promise<BuybackOutcome> {
  let simulation;
  try {
    simulation = await client.simulateContract({ address: buyback, abi: buybackAbi, functionName: "observe", args: [asset], account: wallet.account });
  } catch (error) {
    const decoded = decodeContractError(error);
    if (decoded === null) throw error;
    if (decoded.name === "TwapNotReady") return { asset, outcome: "waitingForTwap", reason: decoded };
    return { asset, outcome: "failed", error: decoded };
  }
  const txHash = await send(wallet, client, simulation.request, "Buyback.observe");
  return { asset, outcome: "waitingForTwap", reason, txHash };
}

async function send(wallet: ChainWriter, client: Client, request: Parameters<ChainWriter["writeContract"]>[0], operation: string): Promise<Hash> {
  const txHash = await wallet.writeContract({ ...request, chain: wallet.chain, account: wallet.account });
  const receipt = await client.waitForTransactionReceipt({ hash: txHash });
  if (receipt.status !== "success") throw new TransactionRevertedError(operation, txHash);
  return txHash;
}
