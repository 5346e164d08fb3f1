/**
 * `pod-oracle run` configuration, parsed once from the environment. Every error names its
 * variable (ConfigError). Pure: the environment and a file reader are passed in.
 */
import { readFileSync } from "node:fs";
import { getAddress, isAddress, type Address, type Hex } from "viem";
import { ConfigError, describeEnvVars, EnvReader, type Env, type EnvVar, type ReadText } from "../envReader.ts";
import type { OracleContracts } from "../epoch/types.ts";

export { ConfigError, type Env, type ReadText };

export type OracleConfig = {
  rpcUrl: string;
  contracts: OracleContracts;
  oracleKey: Hex;
  settlerKey: Hex | undefined;
  gateways: { url: string; token: string | undefined }[];
  peers: string[];
  invalidationsDir: string | undefined;
  invalidationsUrls: string[];
  buybackAssets: Address[];
  host: string;
  port: number;
  /** The URL peers and the indexer reach this oracle at (reports: <publicUrl>/epochs/<n>/report). */
  publicUrl: string;
  dataDir: string;
  closeGraceMs: number;
  pollMs: number;
};

export const ENV_VARS: readonly EnvVar[] = [
  { name: "POD_RPC_URL", default: "http://127.0.0.1:8545", help: "JSON-RPC endpoint of the chain" },
  { name: "POD_DEPLOYMENT", help: "JSON file of contract addresses (Ignition's deployed_addresses.json)" },
  { name: "POD_PROTOCOL_PARAMS", help: "ProtocolParams address (overrides POD_DEPLOYMENT); likewise POD_REWARDS_DISTRIBUTOR, POD_BOND_MANAGER, POD_NODE_REGISTRY, POD_CREDIT_VAULT, POD_BUYBACK" },
  { name: "POD_ORACLE_KEY", help: "private key (0x + 64 hex) of this oracle, or a file holding it (required)" },
  { name: "POD_SETTLER_KEY", help: "the gateway's private key (or file): this oracle then settles that gateway's credit usage" },
  { name: "POD_GATEWAYS", help: "gateway base URLs, comma-separated (required), e.g. http://127.0.0.1:8787" },
  { name: "POD_RECEIPTS_TOKEN", help: "bearer token for the gateways' epoch endpoints" },
  { name: "POD_ORACLE_PEERS", help: "base URLs of the other oracles, comma-separated (signatures are exchanged there)" },
  { name: "POD_INVALIDATIONS_DIR", help: "folder of validators' invalidation files (*.json)" },
  { name: "POD_INVALIDATIONS_URLS", help: "validators' base URLs serving /invalidations?epoch=N, comma-separated" },
  { name: "POD_BUYBACK_ASSETS", help: "assets to trigger the buyback for, comma-separated (default: PodToken and the devnet stablecoin of the deployment)" },
  { name: "POD_ORACLE_HOST", default: "127.0.0.1", help: "interface the oracle's HTTP server listens on" },
  { name: "POD_ORACLE_PORT", default: "8790", help: "port of the oracle's HTTP server (reports, signatures, status, metrics)" },
  { name: "POD_ORACLE_PUBLIC_URL", help: "URL others reach this oracle at (default http://HOST:PORT)" },
  { name: "POD_ORACLE_DATA_DIR", default: "~/.pod-oracle", help: "folder of reports, states, signatures and the journal" },
  { name: "POD_ORACLE_CLOSE_GRACE_MS", default: "5000", help: "wall-clock wait past an epoch's close for requests finishing at the boundary" },
  { name: "POD_ORACLE_POLL_MS", default: "2000", help: "how often a waiting epoch is retried" },
];

const CONTRACTS: Record<keyof OracleContracts, { variable: string; contract: string }> = {
  protocolParams: { variable: "POD_PROTOCOL_PARAMS", contract: "ProtocolParams" },
  rewardsDistributor: { variable: "POD_REWARDS_DISTRIBUTOR", contract: "RewardsDistributor" },
  bondManager: { variable: "POD_BOND_MANAGER", contract: "BondManager" },
  nodeRegistry: { variable: "POD_NODE_REGISTRY", contract: "NodeRegistry" },
  creditVault: { variable: "POD_CREDIT_VAULT", contract: "CreditVault" },
  buyback: { variable: "POD_BUYBACK", contract: "Buyback" },
};

export function parseOracleConfig(env: Env, readText: ReadText = (path) => readFileSync(path, "utf8")): OracleConfig {
  const read = new EnvReader(env, readText);
  const rpcUrl = read.rpcUrl();
  const gateways = read.gateways();
  const host = read.text("POD_ORACLE_HOST") ?? "127.0.0.1";
  const port = read.int("POD_ORACLE_PORT", 8790, 0, 65_535);
  const publicUrl = read.urls("POD_ORACLE_PUBLIC_URL")[0] ?? `http://${host}:${port}`;
  const closeGraceMs = read.int("POD_ORACLE_CLOSE_GRACE_MS", 5_000, 0, 3_600_000);
  const pollMs = read.int("POD_ORACLE_POLL_MS", 2_000, 10, 3_600_000);
  const peers = read.urls("POD_ORACLE_PEERS");
  const invalidationsUrls = read.urls("POD_INVALIDATIONS_URLS");
  const contracts = Object.fromEntries(Object.entries(CONTRACTS).map(([field, { variable, contract }]) => [field, read.address(variable, contract)])) as OracleContracts;
  const assetList = read.text("POD_BUYBACK_ASSETS");
  const buybackAssets =
    assetList !== undefined
      ? assetList.split(",").map((a) => {
          if (!isAddress(a.trim(), { strict: false })) throw new ConfigError("POD_BUYBACK_ASSETS", `not an address: ${JSON.stringify(a.trim())}`);
          return getAddress(a.trim());
        })
      : [read.optionalAddress("POD_TOKEN", "PodToken"), read.optionalAddress("POD_STABLECOIN", "DevStablecoin")].filter((a): a is Address => a !== undefined);

  return {
    rpcUrl,
    contracts,
    oracleKey: read.key("POD_ORACLE_KEY", true),
    settlerKey: read.key("POD_SETTLER_KEY", false),
    gateways,
    peers,
    invalidationsDir: read.text("POD_INVALIDATIONS_DIR"),
    invalidationsUrls,
    buybackAssets,
    host,
    port,
    publicUrl,
    dataDir: read.path("POD_ORACLE_DATA_DIR", "~/.pod-oracle"),
    closeGraceMs,
    pollMs,
  };
}

/** The variables section of `pod-oracle run --help`. */
export function describeEnv(): string {
  return describeEnvVars(ENV_VARS);
}
