/**
 * Ponder's configuration for the POD indexer (the app lives in indexer/: schema, indexing
 * functions, API). Addresses and start blocks come from the deployment output named by
 * POD_DEPLOYMENT, the RPC from POD_RPC_URL; see indexer/lib/settings.ts for every variable.
 */
import { createConfig } from "ponder";
import { INDEXED_ABIS } from "./indexer/lib/abis.ts";
import { fetchChainId, readIndexerSettings, type IndexedContract } from "./indexer/lib/settings.ts";

/** Every how many blocks pending reconciliations are retried and accepted epochs marked. */
export const EPOCH_CLOCK_INTERVAL = 5;

const settings = readIndexerSettings();
const chainId = settings.chainId ?? (await fetchChainId(settings.rpcUrl));
const at = <N extends IndexedContract>(name: N) => ({ chain: "pod" as const, abi: INDEXED_ABIS[name], address: settings.contracts[name].address, startBlock: settings.contracts[name].startBlock });

export default createConfig({
  database: settings.database.kind === "postgres"
    ? { kind: "postgres", connectionString: settings.database.connectionString }
    : { kind: "pglite", directory: settings.database.directory },
  chains: { pod: { id: chainId, rpc: settings.rpcUrl, pollingInterval: 500 } },
  contracts: {
    PodToken: at("PodToken"),
    StakedPod: at("StakedPod"),
    BondManager: at("BondManager"),
    NodeRegistry: at("NodeRegistry"),
    NodeReports: at("NodeReports"),
    CreditVault: at("CreditVault"),
    Buyback: at("Buyback"),
    RewardsDistributor: at("RewardsDistributor"),
    ProtocolParams: at("ProtocolParams"),
    PodGovernor: at("PodGovernor"),
    PodTimelock: at("PodTimelock"),
  },
  blocks: {
    EpochClock: { chain: "pod", startBlock: settings.contracts.RewardsDistributor.startBlock, interval: EPOCH_CLOCK_INTERVAL },
  },
});
