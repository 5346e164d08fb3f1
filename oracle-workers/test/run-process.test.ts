/**
 * `pod-oracle run` as real processes: two oracles against a local `hardhat node --hostname 127.0.0.1` with
 * 10-second epochs and a real `pod-gateway` process, peers of each other over HTTP. They close the
 * first two epochs, co-sign and propose each root once, and exit 0 at --until-epoch.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { getAddress, keccak256, stringToBytes, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { eventually, freePort, startLocalChain } from "../../test/helpers/localChain.ts";

const ROOT = join(import.meta.dirname, "../..");
/** Hardhat's default accounts 4, 5 and 6: the gateway and two oracles. */
const GATEWAY_KEY: Hex = "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a";
const ORACLE_KEYS: readonly Hex[] = [
  "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
  "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
];
const LAST_EPOCH = 1;

function start(script: string, args: string[], env: Record<string, string>): { child: ChildProcess; output: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, [join(ROOT, script), ...args], { env: { PATH: process.env.PATH, ...env }, stdio: ["ignore", "ignore", "pipe"] });
  let output = "";
  child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, output: () => output, exit };
}

test("two pod-oracle processes close epochs on a local chain: co-signed, proposed once each, then exit 0", { timeout: 240_000 }, async () => {
  const oracles = ORACLE_KEYS.map((k) => privateKeyToAccount(k).address).sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
  const chain = await startLocalChain("oracle-run", { params: { epochLength: 10n, rootChallengeWindow: 0n }, oracles, oracleQuorum: 2n });
  const dirs = await Promise.all([0, 1, 2].map((i) => mkdtemp(join(tmpdir(), `pod-oracle-run-${i}-`))));
  const children: ChildProcess[] = [];
  try {
    const { connection, core } = chain;
    const wallets = await connection.viem.getWalletClients();
    assert.equal(privateKeyToAccount(GATEWAY_KEY).address, getAddress(wallets[4]!.account.address), "account 4 is the gateway");
    for (const oracle of oracles) assert.ok(wallets.some((w) => getAddress(w.account.address) === oracle), "the oracles are funded default accounts");

    const common = { POD_RPC_URL: chain.rpcUrl, POD_DEPLOYMENT: chain.deploymentFile };
    const gateway = start("gateway/src/cli.ts", ["serve"], { ...common, POD_GATEWAY_KEY: GATEWAY_KEY, POD_GATEWAY_PORT: "0", POD_GATEWAY_DATA_DIR: dirs[2]! });
    children.push(gateway.child);
    const gatewayUrl = await eventually("the gateway to listen", async () => /"?url"?[=:]"?(http:\/\/127\.0\.0\.1:\d+)/.exec(gateway.output())?.[1], 60_000);

    const ports = [await freePort(), await freePort()];
    const runs = ORACLE_KEYS.map((key, i) => {
      const run = start("oracle-workers/src/cli.ts", ["run", "--until-epoch", String(LAST_EPOCH)], {
        ...common,
        POD_ORACLE_KEY: key,
        ...(i === 0 ? { POD_SETTLER_KEY: GATEWAY_KEY } : {}),
        POD_GATEWAYS: gatewayUrl,
        POD_ORACLE_PORT: String(ports[i]),
        POD_ORACLE_PEERS: `http://127.0.0.1:${ports[1 - i]}`,
        POD_ORACLE_DATA_DIR: dirs[i]!,
        POD_ORACLE_CLOSE_GRACE_MS: "0",
        POD_ORACLE_POLL_MS: "200",
      });
      children.push(run.child);
      return run;
    });
    // The chain makes blocks only with transactions: move it past the last epoch's close.
    const [length, genesis] = await core.protocolParams.read.epochSchedule();
    const past = genesis + BigInt(LAST_EPOCH + 1) * length + 1n;
    const latest = BigInt(await connection.networkHelpers.time.latest());
    await connection.networkHelpers.time.increaseTo(past > latest ? past : latest + 1n);

    let timer: NodeJS.Timeout | undefined;
    const codes = await Promise.race([
      Promise.all(runs.map((r) => r.exit)),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`oracles still running:\n${runs.map((r) => r.output()).join("\n---\n")}`)), 120_000);
      }),
    ]).finally(() => clearTimeout(timer));
    assert.deepEqual(codes, [0, 0], runs.map((r) => r.output()).join("\n---\n"));
    assert.equal(await core.rewardsDistributor.read.nextEpoch(), BigInt(LAST_EPOCH + 1));
    const proposed = await core.rewardsDistributor.getEvents.RootProposed({}, { fromBlock: 0n });
    assert.deepEqual(proposed.map((e) => e.args.epoch), [0n, 1n], "each epoch proposed once");
    for (let epoch = 0; epoch <= LAST_EPOCH; epoch++) {
      const [a, b] = await Promise.all(dirs.slice(0, 2).map((d) => readFile(join(d, "epochs", String(epoch), "report.json"), "utf8")));
      assert.equal(a, b, `epoch ${epoch}: the same report bytes`);
      const record = await core.rewardsDistributor.read.epochRecord([BigInt(epoch)]);
      assert.equal(record.reportHash, keccak256(stringToBytes(a!)), `epoch ${epoch}: the on-chain report hash is the report's`);
    }
    assert.match(runs[0]!.output(), /pod-oracle stopped/);
  } finally {
    for (const child of children) child.kill("SIGKILL");
    await chain.close();
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  }
});
