/**
 * `pod-oracle run`: the epoch pipeline as a service. Configuration comes from the environment
 * (pipeline/config.ts), parsed once; logs are one line each on stderr; SIGINT/SIGTERM stop it
 * cleanly (the current step finishes or is resumed on the next start).
 */
import { parseArgs } from "node:util";
import { ConfigError, describeEnv, parseOracleConfig } from "../pipeline/config.ts";
import type { Logger } from "../pipeline/context.ts";
import { startOracle } from "../pipeline/start.ts";
import type { Command } from "./command.ts";
import { UsageError } from "./command.ts";

const HELP = `Usage: pod-oracle run [--until-epoch N]

Runs one oracle: at each epoch's close it reads the epoch's receipts from the gateways, drops
invalid, duplicate and validator-invalidated ones, splits the epoch's node reward budget by work,
reads bonds and registry flags at the closing block, runs the reward engine, writes the epoch
report, co-signs the root with the other oracles and proposes it once a quorum signed the same
root; then settles the gateway's credit usage (with POD_SETTLER_KEY) and triggers the buyback.
Re-running an epoch gives the same report and root; a crash resumes where it stopped.

It serves on POD_ORACLE_HOST:POD_ORACLE_PORT:
  GET /epochs/N/report      the epoch report (its keccak256 is the on-chain reportHash)
  GET /epochs/N/signature   this oracle's signature of the epoch root
  GET /status               how far the pipeline got, and why it waits
  GET /metrics              Prometheus figures

Options:
  --until-epoch N   stop after epoch N is done (default: run until stopped)
  -h, --help        show this help

Environment:
${describeEnv()}

Example (two oracles, one of them settling for the gateway):
  POD_DEPLOYMENT=ignition/deployments/chain-31337/deployed_addresses.json \\
  POD_ORACLE_KEY=./oracle1.key POD_SETTLER_KEY=./gateway.key POD_GATEWAYS=http://127.0.0.1:8787 \\
  POD_ORACLE_PORT=8790 POD_ORACLE_PEERS=http://127.0.0.1:8791 npm run --silent oracle -- run
`;

const log: Logger = (level, message, fields) => {
  const extra = fields === undefined ? "" : " " + Object.entries(fields).map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? x.toString() : x))}`).join(" ");
  process.stderr.write(`${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} pod-oracle: ${message}${extra}\n`);
};

async function run(args: readonly string[]): Promise<number> {
  let values: { "until-epoch"?: string; help?: boolean };
  try {
    ({ values } = parseArgs({ args: [...args], options: { "until-epoch": { type: "string" }, help: { type: "boolean", short: "h" } }, strict: true }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help === true) {
    process.stdout.write(HELP);
    return 0;
  }
  const until = values["until-epoch"];
  if (until !== undefined && !/^\d+$/.test(until)) throw new UsageError(`--until-epoch must be an epoch number, got ${JSON.stringify(until)}`);
  let config;
  try {
    config = parseOracleConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`pod-oracle run: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
  const oracle = await startOracle(config, { log, ...(until === undefined ? {} : { lastEpoch: Number(until) }) });
  const stop = () => {
    log("info", "pod-oracle stopping");
    void oracle.stop();
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  let failed = false;
  await oracle.done.catch((error: unknown) => {
    failed = true;
    log("error", error instanceof Error ? error.message : String(error));
  });
  await oracle.stop();
  process.off("SIGINT", stop);
  process.off("SIGTERM", stop);
  log("info", "pod-oracle stopped");
  return failed ? 1 : 0;
}

export const runCommand: Command = {
  name: "run",
  summary: "run the epoch pipeline: reports, co-signed roots, settlement, buyback",
  help: HELP,
  run,
};
