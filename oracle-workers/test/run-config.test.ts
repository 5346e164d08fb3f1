/**
 * `pod-oracle run`: its configuration parsed from a given environment (every error names its
 * variable) and the command as a child process (--help, a bad environment, a bad option).
 */
import assert from "node:assert/strict";
import { homedir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { getAddress } from "viem";
import { runCli as runCliScript } from "../../test/helpers/cli.ts";
import { ConfigError, ENV_VARS, parseOracleConfig, type Env } from "../src/pipeline/config.ts";

const CLI = join(import.meta.dirname, "../src/cli.ts");
const KEY = `0x${"11".repeat(32)}`;
const GATEWAY_KEY = `0x${"22".repeat(32)}`;
const addr = (n: number) => getAddress(`0x${n.toString(16).padStart(40, "0")}`);
const DEPLOYMENT = JSON.stringify({
  "PodDevnet#ProtocolParams": addr(1),
  "PodDevnet#RewardsDistributor": addr(2),
  "PodDevnet#BondManager": addr(3),
  "PodDevnet#NodeRegistry": addr(4),
  "PodDevnet#CreditVault": addr(5),
  "PodDevnet#Buyback": addr(6),
  "PodDevnet#PodToken": addr(7),
  "PodDevnet#DevStablecoin": addr(8),
});
const files: Record<string, string> = { "/deploy.json": DEPLOYMENT, "/key": `${GATEWAY_KEY}\n`, "/bad.json": "{", "/twice.json": JSON.stringify({ ...JSON.parse(DEPLOYMENT), "Other#Buyback": addr(9) }) };
const readText = (path: string) => {
  const content = files[path];
  if (content === undefined) throw new Error(`ENOENT: ${path}`);
  return content;
};
const base: Env = { POD_DEPLOYMENT: "/deploy.json", POD_ORACLE_KEY: KEY, POD_GATEWAYS: "http://127.0.0.1:8787" };
const parse = (env: Env) => parseOracleConfig({ ...base, ...env }, readText);

function rejects(env: Env, variable: string, message?: RegExp): void {
  assert.throws(
    () => parse(env),
    (error: unknown) => error instanceof ConfigError && error.variable === variable && (message === undefined || message.test(error.message)),
    `expected a ConfigError about ${variable}`,
  );
}

test("defaults: contracts from the deployment, 127.0.0.1:8790, ~/.pod-oracle, buyback of POD and the devnet stablecoin", () => {
  const config = parse({});
  assert.deepEqual(config.contracts, {
    protocolParams: addr(1), rewardsDistributor: addr(2), bondManager: addr(3), nodeRegistry: addr(4), creditVault: addr(5), buyback: addr(6),
  });
  assert.equal(config.rpcUrl, "http://127.0.0.1:8545");
  assert.equal(config.host, "127.0.0.1");
  assert.equal(config.port, 8790);
  assert.equal(config.publicUrl, "http://127.0.0.1:8790");
  assert.equal(config.dataDir, join(homedir(), ".pod-oracle"));
  assert.deepEqual(config.buybackAssets, [addr(7), addr(8)]);
  assert.deepEqual(config.gateways, [{ url: "http://127.0.0.1:8787", token: undefined }]);
  assert.equal(config.settlerKey, undefined);
  assert.deepEqual(config.peers, []);
  assert.equal(config.closeGraceMs, 5_000);
});

test("every variable is read: a settler key from a file, peers, tokens, invalidation sources, explicit addresses", () => {
  const config = parse({
    POD_SETTLER_KEY: "/key",
    POD_ORACLE_PEERS: "http://127.0.0.1:8791/, http://127.0.0.1:8792",
    POD_RECEIPTS_TOKEN: "secret",
    POD_INVALIDATIONS_DIR: "/tmp/inv",
    POD_INVALIDATIONS_URLS: "http://127.0.0.1:9000",
    POD_BUYBACK: addr(99).toLowerCase(),
    POD_BUYBACK_ASSETS: addr(7),
    POD_ORACLE_PORT: "0",
    POD_ORACLE_PUBLIC_URL: "http://oracle.example:8790",
    POD_ORACLE_DATA_DIR: "~/oracle",
    POD_ORACLE_POLL_MS: "100",
  });
  assert.equal(config.settlerKey, GATEWAY_KEY);
  assert.deepEqual(config.peers, ["http://127.0.0.1:8791", "http://127.0.0.1:8792"]);
  assert.deepEqual(config.gateways, [{ url: "http://127.0.0.1:8787", token: "secret" }]);
  assert.equal(config.invalidationsDir, "/tmp/inv");
  assert.deepEqual(config.invalidationsUrls, ["http://127.0.0.1:9000"]);
  assert.equal(config.contracts.buyback, addr(99));
  assert.deepEqual(config.buybackAssets, [addr(7)]);
  assert.equal(config.port, 0);
  assert.equal(config.publicUrl, "http://oracle.example:8790");
  assert.equal(config.dataDir, join(homedir(), "oracle"));
  assert.equal(config.pollMs, 100);
});

test("bad values fail with an error naming the variable", () => {
  rejects({ POD_ORACLE_KEY: undefined }, "POD_ORACLE_KEY", /required/);
  rejects({ POD_ORACLE_KEY: "11".repeat(32) }, "POD_ORACLE_KEY", /must start with 0x/);
  rejects({ POD_ORACLE_KEY: "/missing" }, "POD_ORACLE_KEY", /neither a private key/);
  rejects({ POD_SETTLER_KEY: "/deploy.json" }, "POD_SETTLER_KEY", /does not hold a private key/);
  rejects({ POD_GATEWAYS: "" }, "POD_GATEWAYS", /at least one/);
  rejects({ POD_GATEWAYS: "ftp://x" }, "POD_GATEWAYS", /not an http/);
  rejects({ POD_ORACLE_PEERS: "nope" }, "POD_ORACLE_PEERS", /not an http/);
  rejects({ POD_ORACLE_PORT: "70000" }, "POD_ORACLE_PORT", /from 0 to 65535/);
  rejects({ POD_RPC_URL: "localhost" }, "POD_RPC_URL");
  rejects({ POD_BUYBACK: "0x12" }, "POD_BUYBACK", /not an address/);
  rejects({ POD_BUYBACK_ASSETS: "0x12" }, "POD_BUYBACK_ASSETS", /not an address/);
  rejects({ POD_DEPLOYMENT: "/bad.json" }, "POD_DEPLOYMENT", /JSON/);
  rejects({ POD_DEPLOYMENT: "/twice.json" }, "POD_DEPLOYMENT", /2 entries for Buyback/);
  rejects({ POD_DEPLOYMENT: undefined }, "POD_PROTOCOL_PARAMS", /required/);
});

const runCli = (args: string[], env: Env) => runCliScript(CLI, args, env);

test("pod-oracle run --help exits 0 and lists every variable with its default", async () => {
  const { code, stdout } = await runCli(["run", "--help"], {});
  assert.equal(code, 0);
  for (const v of ENV_VARS) {
    assert.ok(stdout.includes(v.name), `${v.name} missing from --help`);
    if (v.default !== undefined) assert.ok(stdout.includes(`default ${v.default}`), `${v.name}'s default missing`);
  }
  const top = await runCli(["--help"], {});
  assert.match(top.stdout, /run\s+run the epoch pipeline/);
});

test("pod-oracle run with a bad environment exits 1 naming the variable; a bad option exits 2", async () => {
  const bad = await runCli(["run"], { POD_ORACLE_KEY: KEY, POD_GATEWAYS: "http://127.0.0.1:8787" });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /pod-oracle run: POD_PROTOCOL_PARAMS: required/);
  const option = await runCli(["run", "--until-epoch", "soon"], {});
  assert.equal(option.code, 2);
  assert.match(option.stderr, /--until-epoch must be an epoch number/);
});
