/**
 * `pod-oracle run` configuration, parsed once from the environment. Every error names its
 * variable (ConfigError). Pure: the environment and a file reader are passed in.
 */
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { getAddress, isAddress, type Address, type Hex } from "viem";
import { PrivateKeyError, readPrivateKey } from "../../../sdk/src/privateKey.ts";
import { deployedAddress, DeploymentError, parseDeployment, type Deployment } from "../../../sdk/src/deployment.ts";
import type { OracleContracts } from "../epoch/types.ts";

export class ConfigError extends Error {
  override name = "ConfigError";
  readonly variable: string;
  constructor(variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.variable = variable;
  }
}

export type Env = Readonly<Record<string, string | undefined>>;
export type ReadText = (path: string) => string;

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

export const ENV_VARS: readonly { name: string; default?: string; help: string }[] = [
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
  const text = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === "" ? undefined : value;
  };
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = text(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value) || value < min || value > max) throw new ConfigError(name, `expected an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
    return value;
  };
  const urls = (name: string): string[] =>
    (text(name) ?? "").split(",").map((u) => u.trim()).filter((u) => u !== "").map((u) => {
      if (!URL.canParse(u) || !/^https?:$/.test(new URL(u).protocol)) throw new ConfigError(name, `not an http(s) URL: ${JSON.stringify(u)}`);
      return u.replace(/\/+$/, "");
    });

  const rpcUrl = text("POD_RPC_URL") ?? "http://127.0.0.1:8545";
  if (!URL.canParse(rpcUrl) || !/^(https?|wss?):$/.test(new URL(rpcUrl).protocol)) throw new ConfigError("POD_RPC_URL", `not an http(s) or ws(s) URL: ${JSON.stringify(rpcUrl)}`);
  const token = text("POD_RECEIPTS_TOKEN");
  const gateways = urls("POD_GATEWAYS").map((url) => ({ url, token }));
  if (gateways.length === 0) throw new ConfigError("POD_GATEWAYS", "required: at least one gateway base URL");
  const host = text("POD_ORACLE_HOST") ?? "127.0.0.1";
  const port = int("POD_ORACLE_PORT", 8790, 0, 65_535);
  const publicUrl = urls("POD_ORACLE_PUBLIC_URL")[0] ?? `http://${host}:${port}`;
  const closeGraceMs = int("POD_ORACLE_CLOSE_GRACE_MS", 5_000, 0, 3_600_000);
  const pollMs = int("POD_ORACLE_POLL_MS", 2_000, 10, 3_600_000);
  const peers = urls("POD_ORACLE_PEERS");
  const invalidationsUrls = urls("POD_INVALIDATIONS_URLS");

  const deployment = readDeployment(text("POD_DEPLOYMENT"), readText);
  const address = (variable: string, contract: string): Address | undefined => {
    const explicit = text(variable);
    if (explicit !== undefined) {
      if (!isAddress(explicit, { strict: false })) throw new ConfigError(variable, `not an address: ${JSON.stringify(explicit)}`);
      return getAddress(explicit);
    }
    try {
      return deployment === undefined ? undefined : deployedAddress(deployment, contract);
    } catch (error) {
      throw new ConfigError("POD_DEPLOYMENT", (error as Error).message);
    }
  };
  const contracts = Object.fromEntries(
    Object.entries(CONTRACTS).map(([field, { variable, contract }]) => {
      const found = address(variable, contract);
      if (found === undefined) throw new ConfigError(variable, `required (or POD_DEPLOYMENT with a ${contract} entry)`);
      return [field, found];
    }),
  ) as OracleContracts;
  const assetList = text("POD_BUYBACK_ASSETS");
  const buybackAssets =
    assetList !== undefined
      ? assetList.split(",").map((a) => {
          if (!isAddress(a.trim(), { strict: false })) throw new ConfigError("POD_BUYBACK_ASSETS", `not an address: ${JSON.stringify(a.trim())}`);
          return getAddress(a.trim());
        })
      : [address("POD_TOKEN", "PodToken"), deployment === undefined ? undefined : deployedAddress(deployment, "DevStablecoin")].filter((a): a is Address => a !== undefined);

  return {
    rpcUrl,
    contracts,
    oracleKey: parseKey("POD_ORACLE_KEY", text("POD_ORACLE_KEY"), readText, true) as Hex,
    settlerKey: parseKey("POD_SETTLER_KEY", text("POD_SETTLER_KEY"), readText, false),
    gateways,
    peers,
    invalidationsDir: text("POD_INVALIDATIONS_DIR"),
    invalidationsUrls,
    buybackAssets,
    host,
    port,
    publicUrl,
    dataDir: expandHome(text("POD_ORACLE_DATA_DIR") ?? "~/.pod-oracle"),
    closeGraceMs,
    pollMs,
  };
}

function readDeployment(path: string | undefined, readText: ReadText): Deployment | undefined {
  if (path === undefined) return undefined;
  let content: string;
  try {
    content = readText(path);
  } catch (error) {
    throw new ConfigError("POD_DEPLOYMENT", `cannot read ${path}: ${(error as Error).message}`);
  }
  try {
    return parseDeployment(content, path);
  } catch (error) {
    if (error instanceof DeploymentError) throw new ConfigError("POD_DEPLOYMENT", error.message);
    throw error;
  }
}

function parseKey(variable: string, raw: string | undefined, readText: ReadText, required: boolean): Hex | undefined {
  if (raw === undefined) {
    if (required) throw new ConfigError(variable, "required: a private key or a file holding it");
    return undefined;
  }
  try {
    return readPrivateKey(raw, readText);
  } catch (error) {
    if (error instanceof PrivateKeyError) throw new ConfigError(variable, error.message);
    throw error;
  }
}

function expandHome(path: string): string {
  return path === "~" || path.startsWith("~/") ? join(homedir(), path.slice(1)) : path;
}

/** The variables section of `pod-oracle run --help`. */
export function describeEnv(): string {
  const width = Math.max(...ENV_VARS.map((v) => v.name.length));
  return ENV_VARS.map((v) => `  ${v.name.padEnd(width)}  ${v.help}${v.default === undefined ? "" : ` (default ${v.default})`}`).join("\n");
}
