/**
 * `npm run indexer [-- start|dev]`: checks the environment, then runs Ponder on the indexer app
 * (indexer/ with the root ponder.config.ts) and stops it on SIGINT/SIGTERM.
 *
 * This file sits in Ponder's indexing folder, which Ponder loads as indexing code: it only acts
 * when Node runs it as the main module.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ENV_HELP, IndexerConfigError, fetchChainId, readIndexerSettings } from "../lib/settings.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const PONDER_BIN = join(ROOT, "node_modules/ponder/dist/esm/bin/ponder.js");

const USAGE = `Usage: npm run indexer [-- start|dev] [--help]

Indexes every POD contract with Ponder and serves, on POD_INDEXER_HOST:POD_INDEXER_PORT,
GraphQL at /graphql, GET /claims/:account, GET /epochs/:n, GET /epochs/:n/report, /status,
/ready and /metrics.

  start   index and serve (default)
  dev     the same with Ponder's hot reloading

Environment:
${ENV_HELP}
`;

/** The Ponder command line for `command` (start or dev) with these settings. */
export function ponderArguments(command: "start" | "dev", settings: { schema: string; port: number; host: string }): string[] {
  return [PONDER_BIN, "--root", join(ROOT, "indexer"), "--config", "../ponder.config.ts", "--log-format", "json", command, "--schema", settings.schema, "--port", String(settings.port), "--hostname", settings.host];
}

async function main(args: readonly string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    process.stdout.write(USAGE);
    return 0;
  }
  const command = args[0] ?? "start";
  if (command !== "start" && command !== "dev") {
    process.stderr.write(`unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
    return 2;
  }
  let settings;
  try {
    settings = readIndexerSettings();
  } catch (error) {
    if (error instanceof IndexerConfigError || (error instanceof Error && error.name === "DeploymentError")) {
      process.stderr.write(`pod-indexer: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const chainId = settings.chainId ?? (await fetchChainId(settings.rpcUrl));
  const env: NodeJS.ProcessEnv = { ...process.env, POD_CHAIN_ID: String(chainId), PONDER_TELEMETRY_DISABLED: "true" };
  delete env.PORT; // Ponder would prefer it over --port
  const child = spawn(process.execPath, ponderArguments(command, settings), { cwd: ROOT, env, stdio: "inherit" });
  const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
  process.on("SIGINT", forward("SIGINT"));
  process.on("SIGTERM", forward("SIGTERM"));
  return new Promise((resolve) => child.on("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0))));
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
