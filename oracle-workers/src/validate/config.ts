/**
 * `pod-oracle validate` configuration, parsed once from the environment. Every error names its
 * variable (ConfigError, shared with `pod-oracle run`). Pure: the environment and a file reader
 * are passed in.
 */
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { Address, Hex } from "viem";
import { ConfigError, describeEnvVars, EnvReader, type Env, type EnvVar, type ReadText } from "../envReader.ts";
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

export const VALIDATOR_ENV_VARS: readonly EnvVar[] = [
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
  const read = new EnvReader(env, readText);
  const text = (name: string) => read.text(name);
  const rpcUrl = read.rpcUrl();
  const gateways = read.gateways();
  const oracleUrl = read.urls("POD_ORACLE_URL")[0];
  if (oracleUrl === undefined) throw new ConfigError("POD_ORACLE_URL", "required: an oracle's base URL");
  const contracts = Object.fromEntries(Object.entries(CONTRACTS).map(([field, { variable, contract }]) => [field, read.address(variable, contract)])) as ValidatorConfig["contracts"];
  const validatorKey = read.key("POD_VALIDATOR_KEY", true);

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
    dataDir: read.path("POD_VALIDATOR_DATA_DIR", "~/.pod-validator"),
    host: text("POD_VALIDATOR_HOST") ?? "127.0.0.1",
    port: read.int("POD_VALIDATOR_PORT", 8795, 0, 65_535),
    pollMs: read.int("POD_VALIDATOR_POLL_MS", 2_000, 10, 3_600_000),
    pageSize: read.int("POD_VALIDATOR_PAGE_SIZE", 32, 1, 1_000),
  };
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
  return describeEnvVars(VALIDATOR_ENV_VARS);
}
