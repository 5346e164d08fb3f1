/**
 * Builders for the epoch computation's tests and bench: node keys, signed receipts as a gateway
 * records them, and the chain state at a close. Deterministic (fixed keys, no randomness).
 */
import { getAddress, toHex, type Address, type Hex } from "viem";
import { privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import type { EpochReceipt } from "../../sdk/src/epochData.ts";
import { signReceipt } from "../../sdk/src/receipt.ts";
import { DEFAULT_REWARD_PARAMS, type RewardParams } from "../../sdk/src/rewardParams.ts";
import type { AccountAtClose, EpochChainState, NodeAtClose, OracleContracts } from "../src/epoch/types.ts";
import { mulberry32 } from "../../test/helpers/random.ts";

export const CHAIN_ID = 31337;
export const POD = 10n ** 18n;
export const MODEL = "pod-gpt2-tiny";

export const CONTRACTS: OracleContracts = {
  protocolParams: getAddress("0x00000000000000000000000000000000000000a1"),
  rewardsDistributor: getAddress("0x00000000000000000000000000000000000000a2"),
  bondManager: getAddress("0x00000000000000000000000000000000000000a3"),
  nodeRegistry: getAddress("0x00000000000000000000000000000000000000a4"),
  creditVault: getAddress("0x00000000000000000000000000000000000000a5"),
  buyback: getAddress("0x00000000000000000000000000000000000000a6"),
};

/** The i-th node key (fixed private keys, i >= 0). */
export function nodeKey(i: number): PrivateKeyAccount {
  return privateKeyToAccount(toHex(0x1000 + i, { size: 32 }));
}

/** The i-th operator account (an address only: the oracle never needs its key). */
export function operator(i: number): Address {
  return getAddress(toHex(0xacc0000 + i, { size: 20 }));
}

const hash = (label: string, i: number): Hex => toHex(BigInt(i) * 1_000_003n + BigInt(label.length), { size: 32 });

export type ReceiptSpec = {
  key: PrivateKeyAccount;
  account: Address;
  requestId: string;
  epoch?: number;
  model?: string;
  promptTokens?: number;
  completionTokens?: number;
  /** Signed token counts, when they differ from the record's. */
  signedPromptTokens?: number;
  signedOutputTokens?: number;
  chainId?: number;
};

/** A gateway record with the node's real signature. */
export async function signedRecord(spec: ReceiptSpec): Promise<EpochReceipt> {
  const promptTokens = spec.promptTokens ?? 100;
  const completionTokens = spec.completionTokens ?? 50;
  const model = spec.model ?? MODEL;
  const n = spec.requestId.length;
  const signedReceipt = await signReceipt(
    spec.key,
    {
      requestId: spec.requestId, modelId: model, promptHash: hash("p", n), outputHash: hash("o", n), logprobsHash: hash("l", n),
      promptTokens: spec.signedPromptTokens ?? promptTokens, outputTokens: spec.signedOutputTokens ?? completionTokens,
      startedAt: 1_800_000_000_000, firstTokenMs: 20, totalMs: 400,
    },
    spec.chainId ?? CHAIN_ID,
  );
  return {
    requestId: spec.requestId, epoch: spec.epoch ?? 0, model, nodeAddress: spec.key.address, nodeAccount: spec.account,
    grantId: toHex(1, { size: 32 }), account: getAddress("0x00000000000000000000000000000000000000c1"),
    asset: getAddress("0x00000000000000000000000000000000000000d1"), inputPricePerMTok: 1_000n, outputPricePerMTok: 2_000n,
    promptTokens, completionTokens, charged: 200n, status: "complete", signedReceipt,
  };
}

export type ChainSpec = {
  epoch?: number;
  params?: RewardParams;
  emissionBudget?: bigint;
  modelWeights?: Record<string, number>;
  /** Node key → its registration (defaults: active, not suspended, not banned). */
  nodes: { key: Address; account: Address | null; active?: boolean; suspended?: boolean; banned?: boolean }[];
  /** Accounts at the close; every node's account is added with bond 0, registered, when missing. */
  accounts?: Record<Address, Partial<AccountAtClose>>;
};

export function chainState(spec: ChainSpec): EpochChainState {
  const epoch = spec.epoch ?? 0;
  const nodes = new Map<Address, NodeAtClose>();
  const accounts = new Map<Address, AccountAtClose>();
  for (const n of spec.nodes) {
    nodes.set(getAddress(n.key), { account: n.account, active: n.active ?? true, suspended: n.suspended ?? false, banned: n.banned ?? false });
  }
  for (const [account, a] of Object.entries(spec.accounts ?? {})) {
    accounts.set(getAddress(account), { bond: a.bond ?? 0n, registered: a.registered ?? true, suspended: a.suspended ?? false });
  }
  for (const n of spec.nodes) if (n.account !== null && !accounts.has(n.account)) accounts.set(n.account, { bond: 0n, registered: true, suspended: false });
  return {
    chainId: CHAIN_ID,
    epoch,
    closesAt: 1_800_000_000n + BigInt(epoch + 1) * 86_400n,
    block: { number: 1_000n + BigInt(epoch), hash: toHex(0xb10c + epoch, { size: 32 }), timestamp: 1_800_000_000n + BigInt(epoch + 1) * 86_400n - 1n },
    params: spec.params ?? DEFAULT_REWARD_PARAMS,
    emissionBudget: spec.emissionBudget ?? 1_300n * POD,
    modelWeights: new Map(Object.entries(spec.modelWeights ?? { [MODEL]: 1_000_000 })),
    nodes,
    accounts,
  };
}

/** A seeded shuffle (mulberry32), for order-independence checks. */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  const random = mulberry32(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
