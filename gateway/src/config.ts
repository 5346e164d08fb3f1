/**
 * The gateway's configuration, parsed once from the environment. Every error names the variable
 * it is about (ConfigError), so a misconfigured gateway fails at startup with a useful message.
 * Pure: the environment and a file reader are passed in.
 */
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { getAddress, isAddress, type Address, type Hex } from "viem";
import { deployedAddress, DeploymentError, parseDeployment, type Deployment } from "../../sdk/src/deployment.ts";
import { PrivateKeyError, readPrivateKey } from "../../sdk/src/privateKey.ts";
import type { RateLimitConfig } from "./api/index.ts";
import { PPM } from "./store/index.ts";

export class ConfigError extends Error {
  readonly variable: string;
  constructor(variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = "ConfigError";
    this.variable = variable;
  }
}

export type Env = Readonly<Record<string, string | undefined>>;
export type ReadText = (path: string) => string;

export type ContractAddresses = { creditVault: Address; nodeRegistry: Address; bondManager: Address; protocolParams: Address; podToken: Address };

export type GatewayConfig = {
  rpcUrl: string;
  /** Undefined: read from the RPC at startup. */
  chainId: number | undefined;
  contracts: ContractAddresses;
  gatewayKey: Hex;
  /** Signed into every node's auth; the gateway's address unless set. */
  gatewayId: string | undefined;
  host: string;
  port: number;
  databaseUrl: string | undefined;
  dataDir: string;
  sampling: { salt: string; ratePpm: number } | undefined;
  rateLimit: RateLimitConfig | undefined;
  /** Stablecoins accepted besides POD, with the base units one POD costs in each. */
  stablecoins: { asset: Address; unitsPerPod: bigint }[];
  receiptsToken: string | undefined;
  /** How long chain reads (credit, prices, node authorization) are reused. */
  chainCacheMs: number;
  /** Unsampled responses whose pair stays in memory for a user's flag: the last maxEntries, none older than maxAgeMs. */
  flagBuffer: { maxEntries: number; maxAgeMs: number };
};

/** Every variable, its default and meaning: the source of `pod-gateway --help`. */
export const ENV_VARS: readonly { name: string; default?: string; help: string }[] = [
  { name: "POD_RPC_URL", default: "http://127.0.0.1:8545", help: "JSON-RPC endpoint of the chain" },
  { name: "POD_CHAIN_ID", help: "chain id (read from the RPC when unset)" },
  { name: "POD_DEPLOYMENT", help: "JSON file of contract addresses (Ignition's deployed_addresses.json: keys ending in #CreditVault, #NodeRegistry, #BondManager, #ProtocolParams, #PodToken)" },
  { name: "POD_CREDIT_VAULT", help: "CreditVault address (overrides POD_DEPLOYMENT)" },
  { name: "POD_NODE_REGISTRY", help: "NodeRegistry address (overrides POD_DEPLOYMENT)" },
  { name: "POD_BOND_MANAGER", help: "BondManager address (overrides POD_DEPLOYMENT)" },
  { name: "POD_PROTOCOL_PARAMS", help: "ProtocolParams address (overrides POD_DEPLOYMENT)" },
  { name: "POD_TOKEN", help: "PodToken address (overrides POD_DEPLOYMENT)" },
  { name: "POD_GATEWAY_KEY", help: "private key (0x + 64 hex) of the gateway account that settles, or a path to a file holding it (required)" },
  { name: "POD_GATEWAY_ID", help: "id signed into node auth (default: the gateway's address)" },
  { name: "POD_GATEWAY_HOST", default: "127.0.0.1", help: "interface to listen on" },
  { name: "POD_GATEWAY_PORT", default: "8787", help: "port to listen on" },
  { name: "DATABASE_URL", help: "PostgreSQL URL for receipts (default: embedded PGlite in POD_GATEWAY_DATA_DIR)" },
  { name: "POD_GATEWAY_DATA_DIR", default: "~/.pod-gateway", help: "PGlite data folder" },
  { name: "POD_SAMPLING_SALT", help: "secret (>= 16 bytes) keying validator sampling; sampling is off when unset" },
  { name: "POD_SAMPLING_RATE_PPM", default: "10000", help: "requests sampled per million" },
  { name: "POD_RATE_LIMIT_RPM", help: "requests per minute per API key (no limit when unset)" },
  { name: "POD_RATE_LIMIT_BURST", help: "requests a key may make at once (default: POD_RATE_LIMIT_RPM)" },
  { name: "POD_STABLECOINS", help: "accepted stablecoins as ADDRESS=UNITS_PER_POD, comma-separated (e.g. 0xabc…=250000 for $0.25 with 6 decimals)" },
  { name: "POD_RECEIPTS_TOKEN", help: "bearer token required by GET /v1/epochs/:n/receipts and /usage (open when unset)" },
  { name: "POD_CHAIN_CACHE_MS", default: "2000", help: "how long chain reads are reused (ms)" },
  { name: "POD_FLAG_BUFFER_SIZE", default: "2000", help: "unsampled responses whose request/response pair is kept in memory, so a user's flag (POST /v1/flags) still hands it to validators; the oldest go first (0: none, flags of unsampled responses carry no pair)" },
  { name: "POD_FLAG_BUFFER_SECONDS", default: "600", help: "how long a response stays in that buffer at most" },
];

const DEPLOYMENT_KEYS: Record<keyof ContractAddresses, { variable: string; contract: string }> = {
  creditVault: { variable: "POD_CREDIT_VAULT", contract: "CreditVault" },
  nodeRegistry: { variable: "POD_NODE_REGISTRY", contract: "NodeRegistry" },
  bondManager: { variable: "POD_BOND_MANAGER", contract: "BondManager" },
  protocolParams: { variable: "POD_PROTOCOL_PARAMS", contract: "ProtocolParams" },
  podToken: { variable: "POD_TOKEN", contract: "PodToken" },
};

export function parseConfig(env: Env, readText: ReadText = (path) => readFileSync(path, "utf8")): GatewayConfig {
  const text = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === "" ? undefined : value;
  };
  const int = (name: string, fallback: number | undefined, min: number, max: number): number | undefined => {
    const raw = text(name);
    if (raw === undefined) return fallback;
    if (!/^\d+$/.test(raw)) throw new ConfigError(name, `expected an integer, got ${JSON.stringify(raw)}`);
    const value = Number(raw);
    if (!Number.isSafeInteger(value) || value < min || value > max) throw new ConfigError(name, `must be from ${min} to ${max}, got ${raw}`);
    return value;
  };

  const rpcUrl = text("POD_RPC_URL") ?? "http://127.0.0.1:8545";
  if (!URL.canParse(rpcUrl) || !/^(https?|wss?):$/.test(new URL(rpcUrl).protocol)) throw new ConfigError("POD_RPC_URL", `not an http(s) or ws(s) URL: ${JSON.stringify(rpcUrl)}`);

  const rateRpm = int("POD_RATE_LIMIT_RPM", undefined, 1, 1_000_000);
  const burst = int("POD_RATE_LIMIT_BURST", undefined, 1, 1_000_000);
  if (burst !== undefined && rateRpm === undefined) throw new ConfigError("POD_RATE_LIMIT_BURST", "needs POD_RATE_LIMIT_RPM");
  const salt = text("POD_SAMPLING_SALT");
  if (salt !== undefined && Buffer.byteLength(salt) < 16) throw new ConfigError("POD_SAMPLING_SALT", "must be a secret of at least 16 bytes");
  const ratePpm = int("POD_SAMPLING_RATE_PPM", 10_000, 0, PPM) as number;

  const chainId = int("POD_CHAIN_ID", undefined, 1, Number.MAX_SAFE_INTEGER);
  const port = int("POD_GATEWAY_PORT", 8787, 0, 65_535) as number;
  const chainCacheMs = int("POD_CHAIN_CACHE_MS", 2_000, 0, 3_600_000) as number;
  const flagBuffer = { maxEntries: int("POD_FLAG_BUFFER_SIZE", 2_000, 0, 1_000_000) as number, maxAgeMs: (int("POD_FLAG_BUFFER_SECONDS", 600, 1, 86_400) as number) * 1000 };
  const stablecoins = parseStablecoins(text("POD_STABLECOINS"));
  // Files last: a typo in a plain variable is reported before a missing deployment.
  return {
    rpcUrl,
    chainId,
    contracts: parseContracts(text, readText),
    gatewayKey: parseKey(text("POD_GATEWAY_KEY"), readText),
    gatewayId: text("POD_GATEWAY_ID"),
    host: text("POD_GATEWAY_HOST") ?? "127.0.0.1",
    port,
    databaseUrl: text("DATABASE_URL"),
    dataDir: expandHome(text("POD_GATEWAY_DATA_DIR") ?? "~/.pod-gateway"),
    sampling: salt === undefined ? undefined : { salt, ratePpm },
    rateLimit: rateRpm === undefined ? undefined : { requestsPerMinute: rateRpm, burst: burst ?? rateRpm },
    stablecoins,
    receiptsToken: text("POD_RECEIPTS_TOKEN"),
    chainCacheMs,
    flagBuffer,
  };
}

function parseContracts(text: (name: string) => string | undefined, readText: ReadText): ContractAddresses {
  const deploymentPath = text("POD_DEPLOYMENT");
  let deployment: Deployment = new Map();
  if (deploymentPath !== undefined) {
    let content: string;
    try {
      content = readText(deploymentPath);
    } catch (error) {
      throw new ConfigError("POD_DEPLOYMENT", `cannot read ${deploymentPath}: ${error instanceof Error ? error.message : String(error)}`);
    }
    deployment = fromDeployment(() => parseDeployment(content, deploymentPath));
  }
  const address = (field: keyof ContractAddresses): Address => {
    const { variable, contract } = DEPLOYMENT_KEYS[field];
    const explicit = text(variable);
    if (explicit !== undefined) {
      if (!isAddress(explicit, { strict: false })) throw new ConfigError(variable, `not an address: ${JSON.stringify(explicit)}`);
      return getAddress(explicit);
    }
    const found = fromDeployment(() => deployedAddress(deployment, contract));
    if (found === undefined) throw new ConfigError(variable, `required (or POD_DEPLOYMENT with a ${contract} entry)`);
    return found;
  };
  return {
    creditVault: address("creditVault"),
    nodeRegistry: address("nodeRegistry"),
    bondManager: address("bondManager"),
    protocolParams: address("protocolParams"),
    podToken: address("podToken"),
  };
}

/** Runs a deployment read, reporting its DeploymentError against POD_DEPLOYMENT. */
function fromDeployment<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof DeploymentError) throw new ConfigError("POD_DEPLOYMENT", error.message);
    throw error;
  }
}

function parseKey(raw: string | undefined, readText: ReadText): Hex {
  if (raw === undefined) throw new ConfigError("POD_GATEWAY_KEY", "required: the gateway account's private key or a file holding it");
  try {
    return readPrivateKey(raw, readText);
  } catch (error) {
    if (error instanceof PrivateKeyError) throw new ConfigError("POD_GATEWAY_KEY", error.message);
    throw error;
  }
}

function parseStablecoins(raw: string | undefined): { asset: Address; unitsPerPod: bigint }[] {
  if (raw === undefined) return [];
  return raw.split(",").map((entry) => {
    const match = /^\s*(0x[0-9a-fA-F]{40})\s*=\s*(\d+)\s*$/.exec(entry);
    if (match === null) throw new ConfigError("POD_STABLECOINS", `expected ADDRESS=UNITS_PER_POD, got ${JSON.stringify(entry.trim())}`);
    const unitsPerPod = BigInt(match[2] as string);
    if (unitsPerPod <= 0n) throw new ConfigError("POD_STABLECOINS", `the POD price in ${match[1]} must be positive`);
    return { asset: getAddress(match[1] as string), unitsPerPod };
  });
}

function expandHome(path: string): string {
  return path === "~" || path.startsWith("~/") ? join(homedir(), path.slice(1)) : path;
}

/** `pod-gateway --help`. */
export function usage(): string {
  const width = Math.max(...ENV_VARS.map((v) => v.name.length));
  const lines = ENV_VARS.map((v) => `  ${v.name.padEnd(width)}  ${v.help}${v.default === undefined ? "" : ` (default ${v.default})`}`);
  return [
    "Usage: pod-gateway [serve]   run the POD gateway (OpenAI-compatible API and the node pool)",
    "       pod-gateway --help",
    "",
    "Configured by environment variables:",
    ...lines,
    "",
  ].join("\n");
}
