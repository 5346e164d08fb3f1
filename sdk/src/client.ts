/**
 * The clients every action takes: a viem public client to read and simulate, a wallet client
 * (with its account) to send, the POD contract addresses and the indexer's URL. createPodClient
 * binds every action to them, viem style: `pod.stake({ assets })` is `stake(pod, { assets })`.
 *
 * @example
 * const pod = createPodClient({ publicClient, walletClient, deployment: podContracts(parseDeployment(text, file)), indexerUrl });
 * await pod.depositCredit({ asset: pod.contracts.podToken, amount: parseEther("100") });
 */
import { getAddress, isAddress, type Account, type Address, type Chain, type PublicClient, type Transport, type WalletClient } from "viem";
import { deployedAddress, type Deployment } from "./deployment.ts";
import { PodConfigError } from "./errors.ts";
import * as apiKeys from "./actions/apiKeys.ts";
import * as bonds from "./actions/bonds.ts";
import * as credit from "./actions/credit.ts";
import * as governance from "./actions/governance.ts";
import * as nodes from "./actions/nodes.ts";
import * as reads from "./actions/reads.ts";
import * as reports from "./actions/reports.ts";
import * as rewards from "./actions/rewards.ts";
import * as staking from "./actions/staking.ts";

/** Addresses of the deployed POD contracts; `stablecoin` only where the deployment has one. */
export type PodContracts = {
  podToken: Address;
  stakedPod: Address;
  bondManager: Address;
  nodeRegistry: Address;
  creditVault: Address;
  buyback: Address;
  rewardsDistributor: Address;
  protocolParams: Address;
  governor: Address;
  timelock: Address;
  nodeReports: Address;
  stablecoin?: Address | undefined;
};

export type PodPublicClient = PublicClient<Transport, Chain | undefined>;
export type PodWalletClient = WalletClient<Transport, Chain | undefined, Account>;

/** What every action takes. `walletClient` is needed to send, `indexerUrl` to claim. */
export type PodClients = {
  publicClient: PodPublicClient;
  walletClient?: PodWalletClient | undefined;
  contracts: PodContracts;
  /** Base URL of the indexer (GET <indexerUrl>/claims/:account). */
  indexerUrl?: string | undefined;
  /** The fetch used for the indexer (default: the global fetch). */
  fetch?: typeof fetch | undefined;
  /** How often to poll for a receipt (default: the public client's interval, at most 1 s). */
  pollingIntervalMs?: number | undefined;
};

/**
 * Names each contract goes by: the Ignition contract name (keys `<Module>#<Name>`) and the
 * devnet.json `contracts` name, which differ for the governor, timelock and stablecoin.
 */
const CONTRACT_NAMES: Record<keyof PodContracts, readonly string[]> = {
  podToken: ["PodToken"],
  stakedPod: ["StakedPod"],
  bondManager: ["BondManager"],
  nodeRegistry: ["NodeRegistry"],
  creditVault: ["CreditVault"],
  buyback: ["Buyback"],
  rewardsDistributor: ["RewardsDistributor"],
  protocolParams: ["ProtocolParams"],
  governor: ["PodGovernor", "Governor"],
  timelock: ["PodTimelock", "Timelock"],
  nodeReports: ["NodeReports"],
  stablecoin: ["DevStablecoin", "Stablecoin"],
};

/**
 * The POD contracts of a deployment: Ignition's deployed_addresses.json or devnet.json's
 * `contracts` map, both read with parseDeployment. Throws PodConfigError naming a missing one.
 */
export function podContracts(deployment: Deployment): PodContracts {
  const find = (key: keyof PodContracts): Address | undefined => {
    for (const name of CONTRACT_NAMES[key]) {
      const address = deployedAddress(deployment, name);
      if (address !== undefined) return address;
    }
    return undefined;
  };
  const required = (key: Exclude<keyof PodContracts, "stablecoin">): Address => {
    const address = find(key);
    if (address === undefined) throw new PodConfigError(`the deployment has no ${CONTRACT_NAMES[key].join(" or ")} address`);
    return address;
  };
  return {
    podToken: required("podToken"),
    stakedPod: required("stakedPod"),
    bondManager: required("bondManager"),
    nodeRegistry: required("nodeRegistry"),
    creditVault: required("creditVault"),
    buyback: required("buyback"),
    rewardsDistributor: required("rewardsDistributor"),
    protocolParams: required("protocolParams"),
    governor: required("governor"),
    timelock: required("timelock"),
    nodeReports: required("nodeReports"),
    stablecoin: find("stablecoin"),
  };
}

/** The contracts of a parsed devnet.json (its `contracts` map). */
export function podContractsFromDevnet(devnet: unknown): PodContracts {
  const contracts = (devnet as { contracts?: unknown } | null)?.contracts;
  if (typeof contracts !== "object" || contracts === null || Array.isArray(contracts)) throw new PodConfigError("devnet.json has no contracts object");
  const map = new Map<string, Address>();
  for (const [name, value] of Object.entries(contracts)) {
    if (typeof value !== "string" || !isAddress(value, { strict: false })) throw new PodConfigError(`devnet.json: contracts.${name} is not an address`);
    map.set(name, getAddress(value));
  }
  return podContracts(map);
}

export type CreatePodClientOptions = {
  publicClient: PodPublicClient;
  walletClient?: PodWalletClient | undefined;
  /** The addresses, or a parsed deployment file to read them from. */
  deployment: PodContracts | Deployment;
  indexerUrl?: string | undefined;
  fetch?: typeof fetch | undefined;
  pollingIntervalMs?: number | undefined;
};

type Bound<T> = {
  [K in keyof T]: T[K] extends (pod: PodClients, ...rest: infer A) => infer R ? (...rest: A) => R : never;
};

/** The actions createPodClient binds: each takes the clients first (helpers such as parseClaimData are not here). */
const ACTIONS = {
  depositCredit: credit.depositCredit,
  requestCreditWithdrawal: credit.requestCreditWithdrawal,
  cancelCreditWithdrawal: credit.cancelCreditWithdrawal,
  completeCreditWithdrawal: credit.completeCreditWithdrawal,
  issueApiKey: apiKeys.issueApiKey,
  revokeApiKey: apiKeys.revokeApiKey,
  stake: staking.stake,
  startCooldown: staking.startCooldown,
  cancelCooldown: staking.cancelCooldown,
  redeem: staking.redeem,
  bond: bonds.bond,
  requestUnbond: bonds.requestUnbond,
  cancelUnbond: bonds.cancelUnbond,
  withdrawUnbonded: bonds.withdrawUnbonded,
  fetchClaim: rewards.fetchClaim,
  claimRewards: rewards.claimRewards,
  registerNode: nodes.registerNode,
  updateNode: nodes.updateNode,
  deregisterNode: nodes.deregisterNode,
  reportNode: reports.reportNode,
  flagNode: reports.flagNode,
  delegateVotes: governance.delegateVotes,
  propose: governance.propose,
  proposeParameterChange: governance.proposeParameterChange,
  castVote: governance.castVote,
  queueProposal: governance.queueProposal,
  executeProposal: governance.executeProposal,
  getAccountOverview: reads.getAccountOverview,
  getNodeStatus: reads.getNodeStatus,
  getEpochStatus: reads.getEpochStatus,
  getClaimable: reads.getClaimable,
  getProposalState: reads.getProposalState,
};

/** Every action, bound to the clients. */
export type PodActions = Bound<typeof ACTIONS>;
export type PodClient = PodClients & PodActions;

/** Binds every action to the clients and addresses. */
export function createPodClient(options: CreatePodClientOptions): PodClient {
  const contracts = options.deployment instanceof Map ? podContracts(options.deployment) : (options.deployment as PodContracts);
  const clients: PodClients = {
    publicClient: options.publicClient,
    walletClient: options.walletClient,
    contracts,
    indexerUrl: options.indexerUrl,
    fetch: options.fetch,
    pollingIntervalMs: options.pollingIntervalMs,
  };
  const bound: Record<string, unknown> = {};
  for (const [name, action] of Object.entries(ACTIONS)) {
    bound[name] = (...rest: unknown[]) => (action as (pod: PodClients, ...a: unknown[]) => unknown)(clients, ...rest);
  }
  return { ...clients, ...(bound as PodActions) };
}
