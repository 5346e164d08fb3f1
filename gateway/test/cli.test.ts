/**
 * pod-gateway's configuration (parsed from a given environment) and its CLI as a child process:
 * --help, and a bad environment failing with a message that names the variable.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { getAddress } from "viem";
import { runCli as runCliScript } from "../../test/helpers/cli.ts";
import { eventually, startLocalChain } from "../../test/helpers/localChain.ts";
import { epochOf } from "../src/cli.ts";
import { ConfigError, ENV_VARS, parseConfig, type Env } from "../src/config.ts";

const CLI = join(import.meta.dirname, "../src/cli.ts");
const KEY = `0x${"11".repeat(32)}`;
const addr = (n: number) => getAddress(`0x${n.toString(16).padStart(40, "0")}`);
const DEPLOYMENT = JSON.stringify({
  "PodDevnet#CreditVault": addr(1),
  "PodDevnet#NodeRegistry": addr(2),
  "PodDevnet#BondManager": addr(3),
  "PodDevnet#ProtocolParams": addr(4),
  "PodDevnet#PodToken": addr(5),
  "PodDevnet#DevStablecoin": addr(6),
});
const files: Record<string, string> = { "/deploy.json": DEPLOYMENT, "/key": `${KEY}\n`, "/bad.json": "{", "/list.json": "[]" };
const readText = (path: string) => {
  const content = files[path];
  if (content === undefined) throw new Error(`ENOENT: ${path}`);
  return content;
};
const base: Env = { POD_DEPLOYMENT: "/deploy.json", POD_GATEWAY_KEY: KEY };
const parse = (env: Env) => parseConfig({ ...base, ...env }, readText);

/** The ConfigError that parsing `env` throws. */
function rejects(env: Env, variable: string, message?: RegExp): void {
  assert.throws(
    () => parse(env),
    (error: unknown) => error instanceof ConfigError && error.variable === variable && (message === undefined || message.test(error.message)),
  );
}

test("defaults: local RPC, 127.0.0.1:8787, PGlite in ~/.pod-gateway, no sampling or rate limit", () => {
  const config = parse({});
  assert.equal(config.rpcUrl, "http://127.0.0.1:8545");
  assert.equal(config.chainId, undefined);
  assert.deepEqual(config.contracts, { creditVault: addr(1), nodeRegistry: addr(2), bondManager: addr(3), protocolParams: addr(4), podToken: addr(5) });
  assert.equal(config.gatewayKey, KEY);
  assert.equal(config.host, "127.0.0.1");
  assert.equal(config.port, 8787);
  assert.equal(config.databaseUrl, undefined);
  assert.equal(config.dataDir, join(homedir(), ".pod-gateway"));
  assert.equal(config.sampling, undefined);
  assert.equal(config.rateLimit, undefined);
  assert.deepEqual(config.stablecoins, []);
});

test("every variable is read: explicit addresses override the deployment, a key file, limits, sampling, stablecoins", () => {
  const config = parse({
    POD_RPC_URL: "ws://chain:8546",
    POD_CHAIN_ID: "31337",
    POD_CREDIT_VAULT: addr(9).toLowerCase(),
    POD_GATEWAY_KEY: "/key",
    POD_GATEWAY_HOST: "0.0.0.0",
    POD_GATEWAY_PORT: "0",
    DATABASE_URL: "postgres://db/pod",
    POD_GATEWAY_DATA_DIR: "/var/lib/gw",
    POD_SAMPLING_SALT: "a secret of sixteen+ bytes",
    POD_SAMPLING_RATE_PPM: "500",
    POD_RATE_LIMIT_RPM: "120",
    POD_RATE_LIMIT_BURST: "10",
    POD_STABLECOINS: `${addr(6).toLowerCase()}=250000, ${addr(7)}=1000000000000000000`,
    POD_RECEIPTS_TOKEN: "t0ken",
    POD_CHAIN_CACHE_MS: "0",
  });
  assert.equal(config.rpcUrl, "ws://chain:8546");
  assert.equal(config.chainId, 31337);
  assert.equal(config.contracts.creditVault, addr(9));
  assert.equal(config.contracts.nodeRegistry, addr(2));
  assert.equal(config.gatewayKey, KEY);
  assert.deepEqual([config.host, config.port, config.databaseUrl, config.dataDir], ["0.0.0.0", 0, "postgres://db/pod", "/var/lib/gw"]);
  assert.deepEqual(config.sampling, { salt: "a secret of sixteen+ bytes", ratePpm: 500 });
  assert.deepEqual(config.rateLimit, { requestsPerMinute: 120, burst: 10 });
  assert.deepEqual(config.stablecoins, [
    { asset: addr(6), unitsPerPod: 250_000n },
    { asset: addr(7), unitsPerPod: 10n ** 18n },
  ]);
  assert.equal(config.receiptsToken, "t0ken");
  assert.equal(config.chainCacheMs, 0);
});

test("explicit addresses alone suffice (no deployment file)", () => {
  const config = parseConfig(
    { POD_GATEWAY_KEY: KEY, POD_CREDIT_VAULT: addr(1), POD_NODE_REGISTRY: addr(2), POD_BOND_MANAGER: addr(3), POD_PROTOCOL_PARAMS: addr(4), POD_TOKEN: addr(5) },
    readText,
  );
  assert.equal(config.contracts.podToken, addr(5));
  rejects({ POD_DEPLOYMENT: "" }, "POD_CREDIT_VAULT", /required/);
});

test("bad values fail with an error naming the variable", () => {
  rejects({ POD_GATEWAY_PORT: "abc" }, "POD_GATEWAY_PORT", /integer/);
  rejects({ POD_GATEWAY_PORT: "70000" }, "POD_GATEWAY_PORT", /65535/);
  rejects({ POD_CHAIN_ID: "-1" }, "POD_CHAIN_ID");
  rejects({ POD_RPC_URL: "chain:8545" }, "POD_RPC_URL");
  rejects({ POD_GATEWAY_KEY: undefined }, "POD_GATEWAY_KEY", /required/);
  rejects({ POD_GATEWAY_KEY: "11".repeat(32) }, "POD_GATEWAY_KEY", /0x/);
  rejects({ POD_GATEWAY_KEY: "/missing" }, "POD_GATEWAY_KEY", /readable file/);
  rejects({ POD_DEPLOYMENT: "/missing.json" }, "POD_DEPLOYMENT", /cannot read/);
  rejects({ POD_DEPLOYMENT: "/bad.json" }, "POD_DEPLOYMENT", /JSON/);
  rejects({ POD_DEPLOYMENT: "/list.json" }, "POD_DEPLOYMENT", /object/);
  rejects({ POD_BOND_MANAGER: "0x1234" }, "POD_BOND_MANAGER", /not an address/);
  rejects({ POD_SAMPLING_SALT: "short" }, "POD_SAMPLING_SALT", /16 bytes/);
  rejects({ POD_SAMPLING_RATE_PPM: "1000001" }, "POD_SAMPLING_RATE_PPM");
  rejects({ POD_RATE_LIMIT_BURST: "5" }, "POD_RATE_LIMIT_BURST", /POD_RATE_LIMIT_RPM/);
  rejects({ POD_RATE_LIMIT_RPM: "0" }, "POD_RATE_LIMIT_RPM");
  rejects({ POD_STABLECOINS: `${addr(6)}:25` }, "POD_STABLECOINS", /ADDRESS=UNITS_PER_POD/);
  rejects({ POD_STABLECOINS: `${addr(6)}=0` }, "POD_STABLECOINS", /positive/);
});

test("a deployment with the same contract under two modules is ambiguous", () => {
  files["/two.json"] = JSON.stringify({ ...JSON.parse(DEPLOYMENT), "Other#CreditVault": addr(8) });
  rejects({ POD_DEPLOYMENT: "/two.json" }, "POD_DEPLOYMENT", /2 entries for CreditVault/);
  assert.equal(parse({ POD_DEPLOYMENT: "/two.json", POD_CREDIT_VAULT: addr(8) }).contracts.creditVault, addr(8));
});

test("epochs count whole epoch lengths from genesis", () => {
  assert.equal(epochOf(1_000_000, 86_400n, 1_000n), 0);
  assert.equal(epochOf((1_000 + 86_400) * 1000, 86_400n, 1_000n), 1);
  assert.equal(epochOf((1_000 + 3 * 86_400 - 1) * 1000, 86_400n, 1_000n), 2);
  assert.equal(epochOf(0, 86_400n, 1_000n), 0);
});

const runCli = (args: string[], env: Env) => runCliScript(CLI, args, env);

test("pod-gateway --help exits 0 and lists every variable with its default", async () => {
  const { code, stdout } = await runCli(["--help"], {});
  assert.equal(code, 0);
  for (const v of ENV_VARS) {
    assert.ok(stdout.includes(v.name), `${v.name} missing from --help`);
    if (v.default !== undefined) assert.ok(stdout.includes(`default ${v.default}`), `${v.name}'s default missing`);
  }
});

test("pod-gateway with a bad environment exits non-zero naming the variable", async () => {
  const { code, stderr } = await runCli(["serve"], { POD_GATEWAY_PORT: "abc", POD_GATEWAY_KEY: KEY });
  assert.equal(code, 1);
  assert.match(stderr, /POD_GATEWAY_PORT: expected an integer, got "abc"/);
  const missing = await runCli([], { POD_GATEWAY_KEY: KEY });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /POD_CREDIT_VAULT: required/);
  const unknown = await runCli(["start"], {});
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown arguments/);
});

test("pod-gateway serve: against a local Hardhat chain (127.0.0.1) deployed with Ignition, answers HTTP, stops on SIGTERM with 0", { timeout: 120_000 }, async () => {
  const chain = await startLocalChain("gateway-cli");
  const dataDir = await mkdtemp(join(tmpdir(), "pod-gw-cli-"));
  let gateway: ChildProcess | undefined;
  try {
    gateway = spawn(process.execPath, [CLI, "serve"], {
      env: {
        PATH: process.env.PATH,
        POD_RPC_URL: chain.rpcUrl,
        POD_DEPLOYMENT: chain.deploymentFile,
        POD_GATEWAY_KEY: KEY,
        POD_GATEWAY_PORT: "0",
        POD_GATEWAY_DATA_DIR: dataDir,
      },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    gateway.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => gateway!.once("exit", (code) => resolve(code)));
    const url = await eventually("the gateway to listen", async () => /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(stderr)?.[1], 30_000);

    const models = await fetch(`${url}/v1/models`);
    assert.equal(models.status, 200);
    assert.deepEqual(await models.json(), { object: "list", data: [] });
    const metrics = await fetch(`${url}/metrics`);
    assert.equal(metrics.status, 200);
    const unauthenticated = await fetch(`${url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    assert.equal(unauthenticated.status, 401);

    gateway.kill("SIGTERM");
    assert.equal(await exited, 0, stderr);
    assert.match(stderr, /pod-gateway stopped/);
    gateway = undefined;
  } finally {
    gateway?.kill("SIGKILL");
    await chain.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});
