/**
 * `npm run devnet`: starts the whole POD network on 127.0.0.1, writes devnet.json, prints where
 * everything is and runs until Ctrl-C, which stops every process it started.
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { DEFAULT_PORTS, freePorts, startDevnet, type RunningDevnet } from "./devnet.ts";
import { Progress } from "./progress.ts";

const ROOT = join(import.meta.dirname, "../..");

const HELP = `Usage: npm run devnet [-- options]

Starts the whole POD network on this machine, on 127.0.0.1 only:
  chain      hardhat node --hostname 127.0.0.1 (port ${DEFAULT_PORTS.chain}), a block every second
  contracts  Ignition PodDevnet, short epochs, governance in about half a minute
  accounts   Hardhat's default keys: a user with POD, stablecoin and credit; two operators (the
             first bonded); the gateway, two oracles and a validator
  indexer    Ponder (port ${DEFAULT_PORTS.indexer}): GraphQL, claim proofs, epoch reconciliation
  gateway    OpenAI-compatible API (port ${DEFAULT_PORTS.gateway}, /v1)
  nodes      two worker nodes on the tiny model (built into models/ when missing)
  validator  samples the gateway's responses and checks them (port ${DEFAULT_PORTS.validator})
  oracles    two oracles co-signing each epoch's rewards root (ports ${DEFAULT_PORTS.oracleA}, ${DEFAULT_PORTS.oracleB})
It writes devnet.json (addresses, URLs, demo keys, a ready API key) and logs to .devnet/logs/.
Ctrl-C stops everything it started. Then try: npm run demo

Options:
  --epoch-seconds <n>   settlement epoch length (default 60, at least 10)
  --challenge-seconds <n>  how long a proposed root waits before it is claimable (default 10)
  --free-ports          use free ports instead of the fixed ones (for a second devnet, or tests)
  --dir <folder>        state and logs (default .devnet; replaced at start)
  --out <file>          where to write devnet.json (default ./devnet.json)
  --exit-when-ready     stop everything once the first request is answered (a smoke test)
  -h, --help            show this help`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      "epoch-seconds": { type: "string", default: "60" },
      "challenge-seconds": { type: "string", default: "10" },
      "free-ports": { type: "boolean", default: false },
      dir: { type: "string", default: join(ROOT, ".devnet") },
      out: { type: "string", default: join(ROOT, "devnet.json") },
      "exit-when-ready": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const epochSeconds = positiveInt("--epoch-seconds", values["epoch-seconds"], 10);
  const challengeSeconds = positiveInt("--challenge-seconds", values["challenge-seconds"], 0);
  const progress = new Progress();
  progress.line("Starting the POD devnet on 127.0.0.1 (Ctrl-C stops it)");
  let devnet: RunningDevnet | undefined;
  let stopping: Promise<void> | undefined;
  const shutdown = (reason: string) => {
    stopping ??= (async () => {
      progress.stop();
      console.error(`\n${reason}: stopping every devnet process…`);
      await devnet?.stop();
      console.error("devnet stopped; nothing of it is listening any more.");
    })();
    return stopping;
  };
  process.on("SIGINT", () => void shutdown("Ctrl-C").then(() => process.exit(130)));
  process.on("SIGTERM", () => void shutdown("SIGTERM").then(() => process.exit(143)));

  devnet = await startDevnet({
    root: ROOT,
    dir: values.dir,
    infoFile: values.out,
    ports: values["free-ports"] ? await freePorts() : { ...DEFAULT_PORTS },
    timings: { epochSeconds, challengeSeconds, votingDelay: 1, votingPeriod: 10, timelockDelay: 3 },
    progress,
  });
  progress.stop();
  const { info } = devnet;
  console.log(summary(devnet));
  if (values["exit-when-ready"]) {
    await shutdown("ready");
    return 0;
  }
  devnet.group.onUnexpectedExit = (member, code, signal) => {
    console.error(`${member.name} exited (${signal ?? `code ${code}`}); its log: ${member.logFile}\n${member.tail()}`);
    void shutdown(`${member.name} stopped`).then(() => process.exit(1));
  };
  console.log(`Running. Logs in ${info.logs}. Ctrl-C to stop.`);
  await new Promise(() => undefined);
  return 0;
}

function summary({ info, firstAnswerSeconds }: RunningDevnet): string {
  const rows: [string, string][] = [
    ["chain", `${info.rpcUrl} (chain id ${info.chainId})`],
    ["gateway (OpenAI API)", info.gatewayUrl],
    ["indexer", `${info.indexerUrl}/graphql  ·  ${info.indexerUrl}/claims/<account>`],
    ["oracles", info.oracleUrls.join("  ")],
    ["validator", `${info.validatorUrl}/status`],
    ["model", info.model],
    ["epochs", `${info.epochSeconds} s`],
    ["user", info.accounts.user.address],
    ...info.accounts.operators.map((o, i): [string, string] => [`operator ${i + 1}`, `${o.address}${o.bonded ? " (bonded)" : ""}, node ${o.nodeKey}`]),
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return [
    "",
    `POD devnet ready in ${firstAnswerSeconds.toFixed(1)} s (first chat completion answered).`,
    ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`),
    "",
    "  devnet.json has every address, the demo keys and a ready API key. Try:",
    "    npm run demo",
    `    curl ${info.gatewayUrl}/chat/completions -H "authorization: Bearer $(node -p 'require(\"./devnet.json\").apiKey')" \\`,
    `      -H 'content-type: application/json' -d '{"model":"${info.model}","messages":[{"role":"user","content":"Hi"}],"max_tokens":16}'`,
    "",
  ].join("\n");
}

function positiveInt(flag: string, text: string, min: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) {
    console.error(`${flag} must be an integer of at least ${min}, got ${JSON.stringify(text)}`);
    process.exit(2);
  }
  return value;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`\ndevnet failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
