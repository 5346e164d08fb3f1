/**
 * `pod-oracle validate`: the validator service. Configuration comes from the environment
 * (validate/config.ts); logs are one line each on stderr; SIGINT/SIGTERM stop it after the
 * current sample.
 */
import { parseArgs } from "node:util";
import { createPublicClient, createWalletClient, http, type PublicClient } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { serveOracle } from "../cosign/server.ts";
import { ConfigError, describeValidatorEnv, parseValidatorConfig } from "../validate/config.ts";
import { FileCursor } from "../validate/cursor.ts";
import { Recomputer } from "../validate/recompute.ts";
import { ChainReporter, chainSpeedBounds, oracleValidatorSet } from "../validate/reporter.ts";
import { createValidatorServer } from "../validate/server.ts";
import { ValidatorService, type Log, type ModelValidator } from "../validate/service.ts";
import { fetchFlaggedSamples, gatewaysSource } from "../validate/source.ts";
import type { Command } from "./command.ts";
import { UsageError } from "./command.ts";

const HELP = `Usage: pod-oracle validate

Runs one validator: it reads the sampled requests the gateways keep for validators (GET
/v1/samples), recomputes each one's logprobs with the approved model, replays the node's seeded
sampling over them, and checks tokenization (prompt and output), speed (the governed bounds of
ProtocolParams) and usage. Receipts must be signed for this chain. Responses users flagged
(GET /v1/flags) are validated before the others; strike records persist in DATA_DIR. A node whose failures an honest node
would show with probability below 1e-6 is convicted once: the evidence is written to
DATA_DIR/evidence/<hash>.json, its epochs' receipts are invalidated for the oracles, and the node
is reported on-chain (NodeReports.reportNode) when this account is in the claimable epoch's
validator set; otherwise it keeps validating without reporting. A restart resumes after the last
sample read.

It serves on POD_VALIDATOR_HOST:POD_VALIDATOR_PORT:
  GET /status                  per-node samples, strikes, honest-failure probability, reports
  GET /metrics                 Prometheus figures
  GET /invalidations?epoch=N   invalidated receipts of epoch N (oracles: POD_INVALIDATIONS_URLS)

Options:
  -h, --help   show this help

Environment:
${describeValidatorEnv()}

Example:
  POD_DEPLOYMENT=ignition/deployments/chain-31337/deployed_addresses.json \\
  POD_VALIDATOR_KEY=./validator.key POD_GATEWAYS=http://127.0.0.1:8787 POD_RECEIPTS_TOKEN=secret \\
  POD_ORACLE_URL=http://127.0.0.1:8790 POD_VALIDATOR_MODELS=pod-gpt2-tiny=./models/tiny@<sha256> \\
  npm run --silent oracle -- validate
`;

const log: Log = (level, message, fields) => {
  const extra = fields === undefined ? "" : " " + Object.entries(fields).map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? x.toString() : x))}`).join(" ");
  process.stderr.write(`${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} pod-validator: ${message}${extra}\n`);
};

async function run(args: readonly string[]): Promise<number> {
  let values: { help?: boolean };
  try {
    ({ values } = parseArgs({ args: [...args], options: { help: { type: "boolean", short: "h" } }, strict: true }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help === true) {
    process.stdout.write(HELP);
    return 0;
  }
  let config;
  try {
    config = parseValidatorConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`pod-oracle validate: ${error.message}\n`);
      return 1;
    }
    throw error;
  }

  const transport = http(config.rpcUrl);
  const client = createPublicClient({ transport }) as PublicClient;
  const chainId = await client.getChainId();
  const chain = { id: chainId, name: `chain ${chainId}`, nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 }, rpcUrls: { default: { http: [config.rpcUrl] } } };
  const account = privateKeyToAccount(config.validatorKey);
  const wallet = createWalletClient({ account, chain, transport });

  const models = new Map<string, ModelValidator>();
  for (const approved of config.models) {
    const recomputer = await Recomputer.load(approved, { provider: "cpu" });
    const { tokenizer, manifest } = recomputer.model;
    models.set(approved.modelId, { recomputer, tokenizer, eosTokenId: manifest.eosTokenId, chatFormat: manifest.chatFormat });
    log("info", "approved model loaded", { model: approved.modelId, manifestSha256: approved.manifestSha256 });
  }

  const service = new ValidatorService({
    source: gatewaysSource(config.gateways),
    cursor: new FileCursor(config.dataDir),
    flags: gatewaysSource(config.gateways, fetchFlaggedSamples),
    flagsCursor: new FileCursor(config.dataDir, "flags-cursor.json"),
    models,
    calibration: config.calibration,
    speedBounds: chainSpeedBounds(client, config.contracts.protocolParams),
    dataDir: config.dataDir,
    validator: account.address,
    chainId,
    reporter: new ChainReporter({
      wallet,
      client,
      nodeReports: config.contracts.nodeReports,
      rewardsDistributor: config.contracts.rewardsDistributor,
      validatorSet: oracleValidatorSet(config.oracleUrl),
      log,
    }),
    pageSize: config.pageSize,
    pollMs: config.pollMs,
    log,
  });
  const served = await serveOracle(createValidatorServer(service, config.dataDir), { host: config.host, port: config.port });
  log("info", "validating", { account: account.address, url: served.url, gateways: config.gateways.map((g) => g.url), dataDir: config.dataDir });

  const controller = new AbortController();
  const stop = () => {
    log("info", "pod-validator stopping");
    controller.abort();
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  await service.run(controller.signal);
  await served.close();
  process.off("SIGINT", stop);
  process.off("SIGTERM", stop);
  log("info", "pod-validator stopped");
  return 0;
}

export const validateCommand: Command = {
  name: "validate",
  summary: "run a validator: check sampled requests, convict, report and invalidate",
  help: HELP,
  run,
};
