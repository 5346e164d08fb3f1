/**
 * `pod-oracle validate` configuration, parsed once from the environment. Every error names its
 * variable (ConfigError, shared with `pod-oracle run`). Pure: the environment and a file reader
 * are passed in.
 */
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { getAddress, isAddress, type Address, type Hex } from "viem";
import { deployedAddress, DeploymentError, parseDeployment, type Deployment } from "../../../sdk/src/deployment.ts";
import { PrivateKeyError, readPrivateKey } from "../../../sdk/src/privateKey.ts";
import { ConfigError, type Env, type ReadText } from "../pipeline/config.ts";
import { CalibrationError, CalibrationTable } from "./calibration.ts";
import type { ApprovedModel } from "./recompute.ts";

export { ConfigError };

export type ValidatorConfig = {
  rpcUrl: string;
  contracts: { protocolParams: Address; rewardsDistributor: Address; nodeReports: Address };
  validatorKey: Hex;
  gateways: { url: string; token: string | undefined }[];
  oracleUrl: string;
  models: ApprovedModel[];
  calibration: CalibrationTable;
  dataDir: string;
  host: string;
  port: number;
  pollMs: number;
  pageSize: number;
};

export const VALIDATOR_ENV_VARS: readonly { name: string; default?: string; help: string }[] = [
  { name: "POD_RPC_URL", default: "http://127.0.0.1:8545", help: "JSON-RPC endpoint of the chain" },
  { name: "POD_DEPLOYMENT", help: "JSON file of contract addresses (Ignition's deployed_addresses.json)" },
  { name: "POD_PROTOCOL_PARAMS", help: "ProtocolParams address (overrides POD_DEPLOYMENT); likewise POD_REWARDS_DISTRIBUTOR, POD_NODE_REPORTS" },
  { name: "POD_VALIDATOR_KEY", help: "private key (0x + 64 hex) of the validator's account, or a file holding it (required)" },
  { name: "POD_GATEWAYS", help: "gateway base URLs serving /v1/samples, comma-separated (required)" },
  { name: "POD_RECEIPTS_TOKEN", help: "bearer token for the gateways' samples endpoint" },
  { name: "POD_ORACLE_URL", help: "an oracle's base URL: the claimable epoch's validator set comes from its /epochs/N/report (required)" },
  { name: "POD_VALIDATOR_MODELS", help: "approved models, comma-separated modelId=folder@manifestSha256 (required)" },
  { name: "POD_VALIDATOR_CALIBRATION", help: "JSON file of per-model check thresholds (default: the built-in calibration)" },
  { name: "POD_VALIDATOR_DATA_DIR", default: "~/.pod-validator", help: "folder of the cursor, evidence/ and invalidations/" },
  { name: "POD_VALIDATOR_HOST", default: "127.0.0.1", help: "interface the validator's HTTP server listens on" },
  { name: "POD_VALIDATOR_PORT", default: "8795", help: "port of /status, /metrics and /invalidations?epoch=N" },
  { name: "POD_VALIDATOR_POLL_MS", default: "2000", help: "how often the gateways are asked for new samples" },
  { name: "POD_VALIDATOR_PAGE_SIZE", default: "32", help: "samples per request to a gateway" },
];

const CONTRACTS = {
  protocolParams: { variable: "POD_PROTOCOL_PARAMS", contract: "ProtocolParams" },
  rewardsDistributor: { variable: "POD_REWARDS_DISTRIBUTOR", contract: "RewardsDistributor" },
  nodeReports: { variable: "POD_NODE_REPORTS", contract: "NodeReports" },
} as const;

const MODEL_ENTRY = /^([^=\s]+)=(.+)@(?:0x)?([0-9a-fA-F]{64})$/;

export function parseValidatorConfig(env: Env, readText: ReadText = (path) => readFileSync(path, "utf8")): ValidatorConfig {
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
  const oracleUrl = urls("POD_ORACLE_URL")[0];
  if (oracleUrl === undefined) throw new ConfigError("POD_ORACLE_URL", "required: an oracle's base URL");

  const deployment = readDeployment(text("POD_DEPLOYMENT"), readText);
  const contracts = Object.fromEntries(
    Object.entries(CONTRACTS).map(([field, { variable, contract }]) => {
      const explicit = text(variable);
      if (explicit !== undefined) {
        if (!isAddress(explicit, { strict: false })) throw new ConfigError(variable, `not an address: ${JSON.stringify(explicit)}`);
        return [field, getAddress(explicit)];
      }
      let found: Address | undefined;
      try {
        found = deployment === undefined ? undefined : deployedAddress(deployment, contract);
      } catch (error) {
        throw new ConfigError("POD_DEPLOYMENT", (error as Error).message);
      }
      if (found === undefined) throw new ConfigError(variable, `required (or POD_DEPLOYMENT with a ${contract} entry)`);
      return [field, found];
    }),
  ) as ValidatorConfig["contracts"];

  const rawKey = text("POD_VALIDATOR_KEY");
  if (rawKey === undefined) throw new ConfigError("POD_VALIDATOR_KEY", "required: a private key or a file holding it");
  let validatorKey: Hex;
  try {
    validatorKey = readPrivateKey(rawKey, readText);
  } catch (error) {
    if (error instanceof PrivateKeyError) throw new ConfigError("POD_VALIDATOR_KEY", error.message);
    throw error;
  }

  const models = (text("POD_VALIDATOR_MODELS") ?? "").split(",").map((m) => m.trim()).filter((m) => m !== "").map((entry): ApprovedModel => {
    const match = MODEL_ENTRY.exec(entry);
    if (match === null) throw new ConfigError("POD_VALIDATOR_MODELS", `expected modelId=folder@<64 hex manifest sha256>, got ${JSON.stringify(entry)}`);
    return { modelId: match[1]!, folder: expandHome(match[2]!), manifestSha256: match[3]!.toLowerCase() };
  });
  if (models.length === 0) throw new ConfigError("POD_VALIDATOR_MODELS", "required: at least one modelId=folder@manifestSha256");
  const duplicate = models.find((m, i) => models.findIndex((n) => n.modelId === m.modelId) !== i);
  if (duplicate !== undefined) throw new ConfigError("POD_VALIDATOR_MODELS", `${duplicate.modelId} is listed twice`);

  return {
    rpcUrl,
    contracts,
    validatorKey,
    gateways,
    oracleUrl,
    models,
    calibration: readCalibration(text("POD_VALIDATOR_CALIBRATION"), readText),
    dataDir: expandHome(text("POD_VALIDATOR_DATA_DIR") ?? "~/.pod-validator"),
    host: text("POD_VALIDATOR_HOST") ?? "127.0.0.1",
    port: int("POD_VALIDATOR_PORT", 8795, 0, 65_535),
    pollMs: int("POD_VALIDATOR_POLL_MS", 2_000, 10, 3_600_000),
    pageSize: int("POD_VALIDATOR_PAGE_SIZE", 32, 1, 1_000),
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

function readCalibration(path: string | undefined, readText: ReadText): CalibrationTable {
  if (path === undefined) return new CalibrationTable();
  const variable = "POD_VALIDATOR_CALIBRATION";
  let raw: unknown;
  try {
    raw = JSON.parse(readText(path));
  } catch (error) {
    throw new ConfigError(variable, `cannot read JSON from ${path}: ${(error as Error).message}`);
  }
  try {
    return CalibrationTable.fromJson(raw);
  } catch (error) {
    if (error instanceof CalibrationError) throw new ConfigError(variable, error.message);
    throw error;
  }
}

function expandHome(path: string): string {
  return path === "~" || path.startsWith("~/") ? join(homedir(), path.slice(1)) : path;
}

/** The variables section of `pod-oracle validate --help`. */
export function describeValidatorEnv(): string {
  const width = Math.max(...VALIDATOR_ENV_VARS.map((v) => v.name.length));
  return VALIDATOR_ENV_VARS.map((v) => `  ${v.name.padEnd(width)}  ${v.help}${v.default === undefined ? "" : ` (default ${v.default})`}`).join("\n");
}
