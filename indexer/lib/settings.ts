/**
 * The indexer's settings, read once from the environment: the RPC, the deployment (addresses and
 * the block each contract was deployed in, from Ignition's files, never pasted), the chain id,
 * the oracles to fetch reports from and the database. Every problem names its variable.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Address } from "viem";
import { deployedAddress, parseDeployment } from "../../sdk/src/deployment.ts";

export class IndexerConfigError extends Error {
  override readonly name = "IndexerConfigError";
}

/** The contracts indexed, by the name Ponder and the deployment file use. */
export const INDEXED_CONTRACTS = [
  "PodToken", "StakedPod", "BondManager", "NodeRegistry", "NodeReports", "CreditVault", "Buyback",
  "RewardsDistributor", "ProtocolParams", "PodGovernor", "PodTimelock",
] as const;
export type IndexedContract = (typeof INDEXED_CONTRACTS)[number];

export type DeployedContract = { readonly address: Address; readonly startBlock: number };

export type Database = { readonly kind: "pglite"; readonly directory: string } | { readonly kind: "postgres"; readonly connectionString: string };

export type IndexerSettings = {
  readonly rpcUrl: string;
  readonly chainId: number | undefined;
  readonly contracts: Readonly<Record<IndexedContract, DeployedContract>>;
  readonly oracleUrls: readonly string[];
  readonly database: Database;
  readonly schema: string;
  readonly port: number;
  readonly host: string;
};

/** What `--help` lists. */
export const ENV_HELP = `  POD_RPC_URL           JSON-RPC URL of the chain (required)
  POD_DEPLOYMENT        Ignition deployed_addresses.json (required); start blocks come from the
                        sibling journal.jsonl when present, else 0
  POD_CHAIN_ID          chain id (default: asked from the RPC)
  POD_ORACLE_URLS       comma-separated oracle base URLs serving /epochs/N/report
  POD_INDEXER_PORT      HTTP port (default 42069)
  POD_INDEXER_HOST      HTTP host (default 127.0.0.1)
  DATABASE_URL          PostgreSQL connection string (default: embedded PGlite)
  POD_INDEXER_DATA_DIR  PGlite folder (default indexer/.ponder/pglite)
  POD_INDEXER_SCHEMA    database schema (default "pod")`;

// Ponder loads this file through vite-node, which has no import.meta.dirname.
const INDEXER_DIR = fileURLToPath(new URL("..", import.meta.url));

type Env = Readonly<Record<string, string | undefined>>;

function required(env: Env, name: string): string {
  const value = env[name]?.trim();
  if (!value) throw new IndexerConfigError(`${name} is required`);
  return value;
}

function readUrl(value: string, name: string): string {
  try {
    const url = new URL(value);
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("not http(s)");
  } catch {
    throw new IndexerConfigError(`${name}: not an http(s) URL: ${JSON.stringify(value)}`);
  }
  return value.replace(/\/+$/, "");
}

function readPositiveInteger(value: string | undefined, name: string, fallback: number, max: number): number {
  if (value === undefined || value.trim() === "") return fallback;
  if (!/^[0-9]+$/.test(value.trim()) || Number(value) < 1 || Number(value) > max) throw new IndexerConfigError(`${name}: must be an integer in [1, ${max}], got ${JSON.stringify(value)}`);
  return Number(value);
}

/** Block numbers at which Ignition saw each future's deployment confirmed, by future id. */
export function readDeploymentBlocks(journalFile: string): Map<string, number> {
  const blocks = new Map<string, number>();
  if (!existsSync(journalFile)) return blocks;
  for (const line of readFileSync(journalFile, "utf8").split("\n")) {
    if (!line.includes('"TRANSACTION_CONFIRM"')) continue;
    const entry = JSON.parse(line) as { futureId?: unknown; receipt?: { blockNumber?: unknown; contractAddress?: unknown } };
    const block = entry.receipt?.blockNumber;
    if (typeof entry.futureId === "string" && typeof block === "number" && typeof entry.receipt?.contractAddress === "string") {
      blocks.set(entry.futureId, block);
    }
  }
  return blocks;
}

/** Addresses and start blocks of every indexed contract. */
export function readDeployedContracts(deploymentFile: string): Record<IndexedContract, DeployedContract> {
  let text: string;
  try {
    text = readFileSync(deploymentFile, "utf8");
  } catch (error) {
    throw new IndexerConfigError(`POD_DEPLOYMENT: cannot read ${deploymentFile}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const deployment = parseDeployment(text, deploymentFile);
  const blocks = readDeploymentBlocks(join(dirname(deploymentFile), "journal.jsonl"));
  const contracts = {} as Record<IndexedContract, DeployedContract>;
  for (const name of INDEXED_CONTRACTS) {
    const address = deployedAddress(deployment, name);
    if (address === undefined) throw new IndexerConfigError(`POD_DEPLOYMENT: ${deploymentFile} has no ${name}`);
    const futureId = [...deployment.keys()].find((key) => key === name || key.endsWith(`#${name}`)) ?? name;
    contracts[name] = { address, startBlock: blocks.get(futureId) ?? 0 };
  }
  return contracts;
}

/** POD_ORACLE_URLS: the oracles' base URLs, in the order they are asked. */
export function readOracleUrls(env: Env = process.env): string[] {
  return (env.POD_ORACLE_URLS ?? "").split(",").map((u) => u.trim()).filter((u) => u !== "").map((u) => readUrl(u, "POD_ORACLE_URLS"));
}

export function readIndexerSettings(env: Env = process.env): IndexerSettings {
  const rpcUrl = readUrl(required(env, "POD_RPC_URL"), "POD_RPC_URL");
  const deploymentFile = resolve(required(env, "POD_DEPLOYMENT"));
  const chainIdText = env.POD_CHAIN_ID?.trim();
  const chainId = chainIdText ? readPositiveInteger(chainIdText, "POD_CHAIN_ID", 0, Number.MAX_SAFE_INTEGER) : undefined;
  const oracleUrls = readOracleUrls(env);
  const databaseUrl = env.DATABASE_URL?.trim();
  const database: Database = databaseUrl
    ? { kind: "postgres", connectionString: databaseUrl }
    : { kind: "pglite", directory: resolve(env.POD_INDEXER_DATA_DIR?.trim() || join(INDEXER_DIR, ".ponder", "pglite")) };
  const schema = env.POD_INDEXER_SCHEMA?.trim() || "pod";
  if (!/^[a-z_][a-z0-9_]{0,44}$/.test(schema)) throw new IndexerConfigError(`POD_INDEXER_SCHEMA: must be a lower-case identifier of at most 45 characters, got ${JSON.stringify(schema)}`);
  return {
    rpcUrl,
    chainId,
    contracts: readDeployedContracts(deploymentFile),
    oracleUrls,
    database,
    schema,
    port: readPositiveInteger(env.POD_INDEXER_PORT, "POD_INDEXER_PORT", 42069, 65535),
    host: env.POD_INDEXER_HOST?.trim() || "127.0.0.1",
  };
}

/** Asks the RPC for its chain id (eth_chainId). */
export async function fetchChainId(rpcUrl: string): Promise<number> {
  const response = await fetch(rpcUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await response.json()) as { result?: unknown };
  if (typeof body.result !== "string" || !/^0x[0-9a-f]+$/i.test(body.result)) throw new IndexerConfigError(`POD_RPC_URL: eth_chainId answered ${JSON.stringify(body)}`);
  return Number(BigInt(body.result));
}
