/**
 * The whole network on one machine, every server on 127.0.0.1: a Hardhat chain, the contracts,
 * funded demo accounts, the indexer, the gateway, two worker nodes of two operators (the first
 * bonded), a validator and two oracles. Returns what devnet.json records and a stop() that ends
 * every process it started.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import OpenAI from "openai";
import { ensureModel, modelIdFor } from "../../node/src/model/build.ts";
import { generateKeyFile } from "../../node/src/identity/key.ts";
import { MANIFEST_FILE } from "../../node/src/model/manifest.ts";
import { DEVNET_ACCOUNTS, OPERATORS, ORACLES } from "./accounts.ts";
import { deployContracts, startChain, type DevnetContracts, type DevnetTimings } from "./chain.ts";
import { ProcessGroup, runToCompletion } from "./processes.ts";
import type { Progress } from "./progress.ts";
import { bondOperator, connectChain, enableModelByVote, fundAccounts, registerNode, userCreditAndKey } from "./setup.ts";

export const DEFAULT_PORTS = { chain: 8545, indexer: 42069, gateway: 8787, oracleA: 8790, oracleB: 8791, validator: 8795 } as const;
export type DevnetPorts = { [K in keyof typeof DEFAULT_PORTS]: number };

export type DevnetOptions = {
  root: string;
  /** Folder of the run's state and logs (replaced at start). */
  dir: string;
  /** Where devnet.json is written. */
  infoFile: string;
  ports: DevnetPorts;
  timings: DevnetTimings;
  progress: Progress;
};

export type DevnetInfo = {
  chainId: number;
  rpcUrl: string;
  gatewayUrl: string;
  indexerUrl: string;
  oracleUrls: string[];
  validatorUrl: string;
  contracts: DevnetContracts;
  accounts: {
    user: { address: string; privateKey: string };
    operators: { address: string; privateKey: string; bonded: boolean; nodeKey: string }[];
    gateway: { address: string };
    oracles: { address: string }[];
    validator: { address: string };
  };
  apiKey: string;
  model: string;
  epochSeconds: number;
  receiptsToken: string;
  logs: string;
  deploymentFile: string;
};

export type RunningDevnet = { info: DevnetInfo; group: ProcessGroup; firstAnswerSeconds: number; stop(): Promise<void> };

const MODEL = modelIdFor("tiny", "base");

export async function startDevnet(options: DevnetOptions): Promise<RunningDevnet> {
  const { root, dir, ports, timings, progress } = options;
  await Promise.all(Object.entries(ports).map(([name, port]) => assertPortFree(name, port)));
  await rm(dir, { recursive: true, force: true });
  const logDir = join(dir, "logs");
  await mkdir(logDir, { recursive: true });
  const group = new ProcessGroup();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await group.stop();
    await rm(options.infoFile, { force: true });
  };
  try {
    const hardhat = join(root, "node_modules/hardhat/dist/src/cli.js");
    const [modelFolder, rpcUrl] = await Promise.all([
      progress.step(`model ${MODEL}`, () => ensureModel(join(root, "models"), "tiny", "base")),
      progress.step(`chain on 127.0.0.1:${ports.chain}`, () => startChain(group, { root, port: ports.chain, logDir })),
      progress.step("contracts compiled", () => runToCompletion("build", hardhat, ["build", "--quiet"], { cwd: root, logDir, env: { HARDHAT_DISABLE_TELEMETRY: "true" } })),
    ]);
    const { contracts, deploymentFile } = await progress.step("contracts (Ignition PodDevnet)", () =>
      deployContracts({ root, rpcUrl, timings, rewardsPoolFunding: 100_000_000n * 10n ** 18n }),
    );
    const chain = connectChain(rpcUrl, contracts);
    await progress.step("demo accounts funded", async () => {
      await fundAccounts(chain);
      await bondOperator(chain);
    });

    const url = (port: number) => `http://127.0.0.1:${port}`;
    const receiptsToken = randomBytes(16).toString("hex");
    const common = { POD_RPC_URL: rpcUrl, POD_DEPLOYMENT: deploymentFile, POD_CHAIN_ID: "31337" };
    const start = (name: string, script: string, args: string[], env: Record<string, string>) => group.start(name, join(root, script), args, { cwd: root, logDir, env: { ...common, ...env } });
    const manifestSha256 = createHash("sha256").update(await readFile(join(modelFolder, MANIFEST_FILE))).digest("hex");

    const governance = progress.step("model enabled by a governance vote", (detail) => enableModelByVote(chain, MODEL, detail));
    const apiKey = progress.step("user credit deposited, API key signed", () => userCreditAndKey(chain, DEVNET_ACCOUNTS.gateway.account.address));

    const gateway = start("gateway", "gateway/src/cli.ts", ["serve"], {
      POD_GATEWAY_KEY: DEVNET_ACCOUNTS.gateway.privateKey,
      POD_GATEWAY_PORT: String(ports.gateway),
      POD_GATEWAY_DATA_DIR: join(dir, "gateway"),
      POD_SAMPLING_SALT: randomBytes(32).toString("hex"),
      POD_SAMPLING_RATE_PPM: "200000",
      POD_RECEIPTS_TOKEN: receiptsToken,
      POD_STABLECOINS: `${contracts.Stablecoin}=250000`,
    });
    const gatewayReady = progress.step(`gateway on ${url(ports.gateway)}`, () => gateway.waitForOutput(/pod-gateway listening/, 60_000));

    const nodes = progress.step("two worker nodes joined", async (detail) => {
      await gatewayReady;
      const nodeKeys = await Promise.all(OPERATORS.map((_, i) => generateKeyFile(join(dir, `node-${i + 1}`, "node-key.json"))));
      for (const [i, operator] of OPERATORS.entries()) await registerNode(chain, operator.account, nodeKeys[i]!, MODEL);
      detail("loading the model");
      const started = OPERATORS.map((_, i) =>
        start(`node-${i + 1}`, "node/src/cli.ts", ["serve", "--gateway", `ws://127.0.0.1:${ports.gateway}/v1/nodes/ws`, "--key", join(dir, `node-${i + 1}`, "node-key.json"), "--model", modelFolder, "--threads", "1", "--max-batch", "8"], {}),
      );
      await Promise.all(started.map((n) => n.waitForOutput(/joined the gateway pool/, 120_000)));
      return nodeKeys.map((k) => k.address);
    });

    const oracleUrls = [url(ports.oracleA), url(ports.oracleB)];
    const validatorUrl = url(ports.validator);
    const oracles = progress.step("two oracles", async () => {
      const oraclePorts = [ports.oracleA, ports.oracleB];
      const started = ORACLES.map((oracle, i) =>
        start(`oracle-${i + 1}`, "oracle-workers/src/cli.ts", ["run"], {
          POD_ORACLE_KEY: oracle.privateKey,
          ...(i === 0 ? { POD_SETTLER_KEY: DEVNET_ACCOUNTS.gateway.privateKey } : {}),
          POD_GATEWAYS: url(ports.gateway),
          POD_RECEIPTS_TOKEN: receiptsToken,
          POD_ORACLE_PORT: String(oraclePorts[i]),
          POD_ORACLE_PEERS: oracleUrls[1 - i]!,
          POD_INVALIDATIONS_URLS: validatorUrl,
          POD_BUYBACK_ASSETS: contracts.PodToken,
          POD_ORACLE_DATA_DIR: join(dir, `oracle-${i + 1}`),
          POD_ORACLE_CLOSE_GRACE_MS: "2000",
          POD_ORACLE_POLL_MS: "1000",
        }),
      );
      await Promise.all(started.map((o, i) => o.waitUntil(`${oracleUrls[i]}/status`, async () => (await fetch(`${oracleUrls[i]}/status`)).ok, 60_000)));
    });
    const validator = progress.step("validator", async () => {
      const v = start("validator", "oracle-workers/src/cli.ts", ["validate"], {
        POD_VALIDATOR_KEY: DEVNET_ACCOUNTS.validator.privateKey,
        POD_GATEWAYS: url(ports.gateway),
        POD_RECEIPTS_TOKEN: receiptsToken,
        POD_ORACLE_URL: oracleUrls[0]!,
        POD_VALIDATOR_MODELS: `${MODEL}=${modelFolder}@${manifestSha256}`,
        POD_VALIDATOR_DATA_DIR: join(dir, "validator"),
        POD_VALIDATOR_PORT: String(ports.validator),
        POD_VALIDATOR_POLL_MS: "1000",
      });
      await v.waitUntil(`${validatorUrl}/status`, async () => (await fetch(`${validatorUrl}/status`)).ok, 60_000);
    });
    const indexerUrl = url(ports.indexer);
    const indexer = progress.step(`indexer on ${indexerUrl}`, async () => {
      const ix = start("indexer", "indexer/src/cli.ts", [], {
        POD_ORACLE_URLS: oracleUrls.join(","),
        POD_INDEXER_PORT: String(ports.indexer),
        POD_INDEXER_DATA_DIR: join(dir, "indexer"),
        PONDER_TELEMETRY_DISABLED: "true",
      });
      await ix.waitUntil(`${indexerUrl}/status`, async () => (await fetch(`${indexerUrl}/status`)).ok, 120_000);
    });

    const [nodeKeys, key] = await Promise.all([nodes, apiKey, governance, oracles, validator, indexer, gatewayReady]).then(([n, k]) => [n, k] as const);
    const gatewayUrl = `${url(ports.gateway)}/v1`;
    const firstAnswerSeconds = await progress.step("first chat completion answered", async () => {
      const client = new OpenAI({ baseURL: gatewayUrl, apiKey: key, maxRetries: 0, timeout: 30_000 });
      await client.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "Hello from the devnet" }], max_tokens: 8 });
      return progress.elapsed();
    });

    const info: DevnetInfo = {
      chainId: 31337,
      rpcUrl,
      gatewayUrl,
      indexerUrl,
      oracleUrls,
      validatorUrl,
      contracts,
      accounts: {
        user: { address: DEVNET_ACCOUNTS.user.account.address, privateKey: DEVNET_ACCOUNTS.user.privateKey },
        operators: OPERATORS.map((o, i) => ({ address: o.account.address, privateKey: o.privateKey, bonded: i === 0, nodeKey: nodeKeys[i]! })),
        gateway: { address: DEVNET_ACCOUNTS.gateway.account.address },
        oracles: ORACLES.map((o) => ({ address: o.account.address })),
        validator: { address: DEVNET_ACCOUNTS.validator.account.address },
      },
      apiKey: key,
      model: MODEL,
      epochSeconds: timings.epochSeconds,
      receiptsToken,
      logs: logDir,
      deploymentFile,
    };
    await writeFile(options.infoFile, `${JSON.stringify(info, null, 2)}\n`);
    return { info, group, firstAnswerSeconds, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

export class PortInUseError extends Error {
  constructor(name: string, port: number) {
    super(`port ${port} (${name}) is already in use on 127.0.0.1: is another devnet running? Stop it, or start with --free-ports`);
    this.name = "PortInUseError";
  }
}

async function assertPortFree(name: string, port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.once("error", () => reject(new PortInUseError(name, port)));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve()));
  });
}

/** Free ports on 127.0.0.1, one per service (for tests and side-by-side devnets). */
export async function freePorts(): Promise<DevnetPorts> {
  const entries = await Promise.all(
    Object.keys(DEFAULT_PORTS).map(
      (name) =>
        new Promise<[string, number]>((resolve, reject) => {
          const server = createServer();
          server.once("error", reject);
          server.listen(0, "127.0.0.1", () => {
            const address = server.address();
            server.close(() => (typeof address === "object" && address !== null ? resolve([name, address.port]) : reject(new Error("no port"))));
          });
        }),
    ),
  );
  return Object.fromEntries(entries) as DevnetPorts;
}
