/**
 * What the chain says at an epoch's closing block: the reward engine's parameters, the emission
 * budget, model weights, node keys and accounts. Every read is pinned to the closing block, so
 * any oracle reading later (or again, after a crash) sees the same values.
 */
import { getAddress, stringToHex, type Address, type Hex } from "viem";
import { bondManagerAbi, nodeRegistryAbi, protocolParamsAbi } from "../../../sdk/src/abi/contracts.ts";
import type { AccountAtClose, ClosingBlock, EpochChainState, NodeAtClose, OracleContracts } from "../epoch/types.ts";
import { DEFAULT_REWARD_PARAMS, parseRewardParams, REWARD_PARAM_NAMES, type RewardParams } from "../../../sdk/src/rewardParams.ts";
import { registryModelId } from "../../../sdk/src/modelId.ts";
import type { ChainReader } from "./client.ts";

export type EpochChainQuery = {
  epoch: number;
  closesAt: bigint;
  block: ClosingBlock;
  /** Node keys seen in the epoch's receipts (and any others the caller tracks). */
  nodes: readonly Address[];
  /** Accounts in the oracle's state; the nodes' accounts are added. */
  accounts: readonly Address[];
  /** Model id strings seen in receipts. */
  models: readonly string[];
  /** Node keys known per account from earlier epochs: their status keeps `registered` right for
   * accounts without receipts this epoch. */
  nodeKeysByAccount?: ReadonlyMap<Address, readonly Address[]>;
};

/** NodeRegistry.NodeStatus. */
const NODE_STATUS_ACTIVE = 1;
const NODE_STATUS_BANNED = 3;

/** The closing block's timestamp is not below the close: it is no closing block. */
export class InvalidClosingBlockError extends Error {
  override name = "InvalidClosingBlockError";
}

type Reader = Pick<ChainReader, "readContract" | "getChainId">;

export async function readEpochChainState(client: Reader, contracts: OracleContracts, q: EpochChainQuery): Promise<EpochChainState> {
  if (q.block.timestamp >= q.closesAt) {
    throw new InvalidClosingBlockError(`block ${q.block.number} at ${q.block.timestamp} is not before the close at ${q.closesAt}`);
  }
  const at = { blockNumber: q.block.number };
  const nodeKeys = uniqueAddresses([...q.nodes, ...[...(q.nodeKeysByAccount?.values() ?? [])].flat()]);
  const [chainId, rawParams, emissionBudget, modelWeights, nodeRecords] = await Promise.all([
    client.getChainId(),
    client.readContract({ address: contracts.protocolParams, abi: protocolParamsAbi, functionName: "boostParams", ...at }),
    client.readContract({
      address: contracts.protocolParams,
      abi: protocolParamsAbi,
      functionName: "getParameter",
      args: [stringToHex("epochEmissionBudget", { size: 32 })],
      ...at,
    }),
    readModelWeights(client, contracts.protocolParams, q.models, at),
    Promise.all(
      nodeKeys.map((key) => client.readContract({ address: contracts.nodeRegistry, abi: nodeRegistryAbi, functionName: "getNode", args: [key], ...at })),
    ),
  ]);

  const nodeAccounts = nodeRecords.map((n) => (BigInt(n.account) === 0n ? null : getAddress(n.account)));
  const accounts = uniqueAddresses([...q.accounts, ...(q.nodeKeysByAccount?.keys() ?? []), ...nodeAccounts.filter((a) => a !== null)]);
  // activeBondAt refuses a timepoint after the block it is read at; at the closing block nothing
  // changes between its timestamp and closesAt - 1, so reading at its timestamp is the same value.
  const bondTimepoint = q.block.timestamp;
  const accountReads = await Promise.all(
    accounts.map((account) =>
      Promise.all([
        client.readContract({ address: contracts.bondManager, abi: bondManagerAbi, functionName: "activeBondAt", args: [account, bondTimepoint], ...at }),
        client.readContract({ address: contracts.nodeRegistry, abi: nodeRegistryAbi, functionName: "accountStatus", args: [account], ...at }),
      ]),
    ),
  );
  const statusOf = new Map(accounts.map((account, i) => [account, accountReads[i]![1]] as const));

  const nodes = new Map<Address, NodeAtClose>();
  nodeKeys.forEach((key, i) => {
    const record = nodeRecords[i]!;
    const account = nodeAccounts[i]!;
    // A banned account's nodes never serve again, whatever their own status says.
    const accountBanned = account !== null && statusOf.get(account)![1];
    nodes.set(key, {
      account,
      active: record.status === NODE_STATUS_ACTIVE,
      suspended: record.suspended,
      banned: record.status === NODE_STATUS_BANNED || accountBanned,
    });
  });

  const keysOf = new Map<Address, Set<Address>>();
  const addKey = (account: Address, key: Address) => (keysOf.get(account) ?? keysOf.set(account, new Set()).get(account)!).add(key);
  for (const [account, keys] of q.nodeKeysByAccount ?? []) for (const key of keys) addKey(getAddress(account), getAddress(key));
  for (const [key, node] of nodes) if (node.account !== null) addKey(node.account, key);

  const accountStates = new Map<Address, AccountAtClose>();
  accounts.forEach((account, i) => {
    const [bond, [suspended, banned]] = accountReads[i]!;
    // Active *under this account*: a key that moved to another account does not count here.
    const registered = [...(keysOf.get(account) ?? [])].some((key) => {
      const node = nodes.get(key);
      return node !== undefined && node.active && node.account === account;
    });
    accountStates.set(account, { bond, registered, suspended: suspended || banned });
  });

  return {
    chainId,
    epoch: q.epoch,
    closesAt: q.closesAt,
    block: q.block,
    params: rewardParamsFromChain(rawParams),
    emissionBudget,
    modelWeights,
    nodes,
    accounts: accountStates,
  };
}

/** ProtocolParams.boostParams as RewardParams, through the off-chain parser and its bounds. */
export function rewardParamsFromChain(raw: Readonly<Record<string, bigint>>): RewardParams {
  const input: Record<string, number | string> = {};
  for (const name of REWARD_PARAM_NAMES) {
    const value = raw[name];
    if (value === undefined) continue; // the parser keeps the default, and the test of equal sets catches drift
    const isInteger = typeof DEFAULT_REWARD_PARAMS[name] === "number";
    // An integer beyond 2^53 stays a string, so that the parser names it instead of rounding it.
    input[name] = isInteger && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
  }
  return parseRewardParams(input, "ProtocolParams.boostParams");
}

async function readModelWeights(
  client: Reader,
  protocolParams: Address,
  models: readonly string[],
  at: { blockNumber: bigint },
): Promise<Map<string, number>> {
  const ids = [...new Set(models)].flatMap((model) => {
    const id = registryModelId(model) ?? null;
    return id === null ? [] : [{ model, id }];
  });
  const settings = await Promise.all(
    ids.map(({ id }) => client.readContract({ address: protocolParams, abi: protocolParamsAbi, functionName: "modelParams", args: [id], ...at })),
  );
  const weights = new Map<string, number>();
  ids.forEach(({ model }, i) => {
    const s = settings[i]!;
    if (s.enabled) weights.set(model, s.workWeightPpm);
  });
  return weights;
}

function uniqueAddresses(addresses: Iterable<Address>): Address[] {
  const seen = new Set<Address>();
  for (const a of addresses) seen.add(getAddress(a));
  return [...seen];
}
