/**
 * `pod-node`: the POD Network worker node.  npm run node -- <command> [options]
 */
import { serve as serveHttp } from "@hono/node-server";
import { generateKeyFile, loadKeyFile, defaultKeyPath } from "./identity/key.ts";
import { COMMON_HELP, UsageError, parseCommand, positiveInt, type CommonConfig } from "./config.ts";
import { NodeError } from "./errors.ts";
import { GatewayClient } from "./gateway/client.ts";
import { log } from "./log.ts";
import { loadModel } from "./model/load.ts";
import { stderrProgress } from "./model/manifest.ts";
import { createLocalApp } from "./server/local.ts";
import { NodeService } from "./service.ts";
import { parseArgs } from "node:util";

const NODE_VERSION = "0.1.0";

const HELP = `pod-node ${NODE_VERSION}: the POD Network worker node

Usage: npm run node -- <command> [options]

Commands:
  keygen   create the node key (secp256k1, file mode 0600)
  local    serve an OpenAI-compatible endpoint on 127.0.0.1 for the operator
  serve    connect out to a gateway and take jobs from its pool
  help     show this help

Run \`npm run node -- <command> --help\` for a command's options.
`;

const KEYGEN_HELP = `Usage: npm run node -- keygen [--key <file>] [--force]

Creates a secp256k1 node key, writes it with mode 0600 and prints the node's address.
  --key <file>   where to write it (default: ${defaultKeyPath()})
  --force        replace an existing key (its identity is lost)
  -h, --help     show this help
`;

const LOCAL_HELP = `Usage: npm run node -- local [options]

Serves /v1/models, /v1/completions, /v1/chat/completions (SSE with "stream": true), /health and
/metrics on http://127.0.0.1:<port>. Every response carries a receipt signed by the node key.
Ctrl-C stops taking requests, finishes those in flight, then exits.

  --port <n>              port on 127.0.0.1 (default: 8080)
${COMMON_HELP}
`;

const SERVE_HELP = `Usage: npm run node -- serve --gateway <ws(s)://host/path> [options]

Connects out to a gateway over WebSocket (protocol in sdk/src/nodeProtocol.ts), signs its
challenge with the node key, reports capacity and measured speed, and runs jobs. Reconnects with
backoff. Ctrl-C (or a drain message) leaves gracefully: in-flight jobs finish first.

  --gateway <url>         gateway WebSocket URL (required)
  --status-interval <ms>  status report interval (default: 10000)
${COMMON_HELP}
`;

async function startService(common: CommonConfig): Promise<NodeService> {
  const account = await loadKeyFile(common.keyFile);
  log("info", "node key loaded", { address: account.address });
  const models = [];
  for (const folder of common.models) {
    models.push(await loadModel(folder, { provider: common.provider, intraOpThreads: common.threads, onProgress: stderrProgress() }));
  }
  return new NodeService(account, models, { maxBatch: common.maxBatch, maxPrefillTokens: common.maxPrefillTokens, chainId: common.chainId });
}

/** First signal: drain and run `shutdown`; second signal: exit at once. */
function onShutdownSignal(shutdown: (signal: string) => Promise<void>): void {
  let stopping = false;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      if (stopping) {
        log("warn", "second signal: exiting without waiting");
        process.exit(1);
      }
      stopping = true;
      shutdown(signal).then(
        () => process.exit(0),
        (error: unknown) => {
          log("error", "shutdown failed", { error: String(error) });
          process.exit(1);
        },
      );
    });
  }
}

/** Single-stream speed on a short greedy generation, reported to the gateway at hello. */
async function calibrate(service: NodeService): Promise<number> {
  const model = service.models[0]!.manifest.modelId;
  const { result } = await service.run({ model, prompt: "The quick brown fox", max_tokens: 32, temperature: 0 }, { requestId: "calibration" });
  const seconds = Math.max(1, result.timings.totalMs - result.timings.firstTokenMs) / 1000;
  return Math.round((Math.max(1, result.usage.completionTokens - 1) / seconds) * 10) / 10;
}

async function keygen(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { key: { type: "string" }, force: { type: "boolean", default: false }, help: { type: "boolean", short: "h", default: false } } });
  if (values.help) return void process.stdout.write(KEYGEN_HELP);
  const file = values.key ?? defaultKeyPath();
  const account = await generateKeyFile(file, { force: values.force });
  process.stdout.write(`node key written to ${file} (mode 0600)\naddress: ${account.address}\n`);
}

async function local(args: string[]): Promise<void> {
  const parsed = parseCommand(args, { port: { type: "string", default: "8080" } });
  if (parsed.help) return void process.stdout.write(LOCAL_HELP);
  const port = positiveInt("port", parsed.values.port as string);
  const service = await startService(parsed.common);
  const app = createLocalApp(service);
  const server = serveHttp({ fetch: app.fetch, hostname: "127.0.0.1", port }, (info) => {
    log("info", `local OpenAI-compatible endpoint on http://127.0.0.1:${info.port}/v1`, { models: service.models.map((m) => m.manifest.modelId).join(",") });
  });
  onShutdownSignal(async (signal) => {
    log("info", `${signal}: finishing in-flight requests`, { inFlight: service.load.inFlight });
    await service.drain();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    log("info", "stopped");
  });
}

async function serve(args: string[]): Promise<void> {
  const parsed = parseCommand(args, { gateway: { type: "string" }, "status-interval": { type: "string", default: "10000" } });
  if (parsed.help) return void process.stdout.write(SERVE_HELP);
  const url = parsed.values.gateway as string | undefined;
  if (url === undefined || !/^wss?:\/\//.test(url)) throw new UsageError("--gateway ws(s)://... is required");
  const statusIntervalMs = positiveInt("status-interval", parsed.values["status-interval"] as string);
  const service = await startService(parsed.common);
  const tokensPerSecond = await calibrate(service);
  log("info", "measured single-stream speed", { tokens_per_s: tokensPerSecond });
  const client = new GatewayClient(service, { url, nodeVersion: NODE_VERSION, calibratedTokensPerSecond: tokensPerSecond, statusIntervalMs, reconnectMinMs: 1_000, reconnectMaxMs: 30_000 });
  client.start();
  onShutdownSignal(async (signal) => {
    await client.leave(`${signal} on the node`);
    log("info", "stopped");
  });
}

const commands: Record<string, (args: string[]) => Promise<void>> = { keygen, local, serve };
const [command, ...rest] = process.argv.slice(2);

if (command === undefined || command === "help" || command === "--help" || command === "-h") {
  process.stdout.write(HELP);
} else if (commands[command] === undefined) {
  process.stderr.write(`unknown command "${command}"\n\n${HELP}`);
  process.exitCode = 2;
} else {
  try {
    await commands[command](rest);
  } catch (error) {
    if (error instanceof UsageError || (error instanceof Error && "code" in error && String(error.code).startsWith("ERR_PARSE_ARGS"))) {
      process.stderr.write(`${error.message}\n(see npm run node -- ${command} --help)\n`);
      process.exitCode = 2;
    } else if (error instanceof NodeError) {
      log("error", error.message, { code: error.code });
      process.exitCode = 1;
    } else {
      throw error;
    }
  }
}
