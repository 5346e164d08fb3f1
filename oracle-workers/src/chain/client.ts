/**
 * The viem clients the chain I/O needs, narrowed to the methods it calls, so that Hardhat's
 * clients, a plain http client and test doubles all fit.
 */
import type { Account, Chain, PublicClient, Transport, WalletClient } from "viem";

/** Reads, simulations and receipts. */
export type ChainReader = Pick<
  PublicClient,
  "readContract" | "simulateContract" | "getBlock" | "getChainId" | "waitForTransactionReceipt"
>;

/** A wallet with its signing account attached (a local key or a node-managed account). */
export type ChainWriter = Pick<WalletClient<Transport, Chain | undefined, Account>, "writeContract" | "account" | "chain">;
