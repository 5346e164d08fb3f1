/**
 * The gateway restarted: `pod-gateway serve` as a real process on a local Hardhat chain, a real
 * worker node attached, requests through the official `openai` client; the gateway is killed with
 * SIGKILL while requests are in flight and started again on the same PGlite data folder. Every
 * answered request's receipt must be served by GET /v1/epochs/:n/receipts exactly once, and the
 * usage endpoint must total the receipts.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import OpenAI from "openai";
import { getAddress, parseUnits, stringToHex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { eventually, freePort, startLocalChain } from "../../test/helpers/localChain.ts";
import { GatewayClient } from "../../node/src/gateway/client.ts";
import { NodeService } from "../../node/src/service.ts";
import { loadTiny, TINY } from "../../node/test/fixtures.ts";
import { createApiKey, grantIdOf } from "../../sdk/src/apiKey.ts";
import { parseEpochReceiptsPage, parseEpochUsage, type EpochReceipt } from "../../sdk/src/epochData.ts";
import { signNodeKeyOwnership, type SpendGrant } from "../../sdk/src/typedData.ts";
import { SAMPLE_MODEL_PARAMS } from "../../test/helpers/unit.ts";
import { epochOf } from "../src/cli.ts";

const ROOT = join(import.meta.dirname, "../..");
const CLI = join(import.meta.dirname, "../src/cli.ts");
const USD = 10n ** 6n;

test("pod-gateway killed with SIGKILL mid-traffic and restarted on its data folder: no answered request's receipt is lost or doubled", { timeout: 300_000 }, async () => {
  const chain = await startLocalChain("gateway-restart");
  const { rpcUrl, connection, core } = chain;
  const dataDir = await mkdtemp(join(tmpdir(), "pod-gw-restart-"));
  let gateway: ChildProcess | undefined;
  let node: GatewayClient | undefined;
  try {
    const [, alice] = await connection.viem.getWalletClients();
    const chainId = 31337;
    const timelock = getAddress(core.timelock.address);
    await connection.networkHelpers.impersonateAccount(timelock);
    await connection.networkHelpers.setBalance(timelock, 10n ** 20n);
    await core.protocolParams.write.setModelParams([stringToHex(TINY, { size: 32 }), SAMPLE_MODEL_PARAMS], { account: timelock });

    // A node key registered for alice; alice's credit in the devnet stablecoin and her API key.
    const nodeKey = privateKeyToAccount(generatePrivateKey());
    const proof = await signNodeKeyOwnership(nodeKey, { account: alice!.account.address, nonce: 0n, chainId, registry: core.nodeRegistry.address });
    await core.nodeRegistry.write.registerNode([nodeKey.address, [stringToHex(TINY, { size: 32 })], "ipfs://node", proof], { account: alice!.account });
    const usd = getAddress(core.stablecoin.address);
    const vault = getAddress(core.creditVault.address);
    await core.stablecoin.write.mint([alice!.account.address, 1_000n * USD]);
    await core.stablecoin.write.approve([vault, 1_000n * USD], { account: alice!.account });
    await core.creditVault.write.deposit([usd, 1_000n * USD], { account: alice!.account });
    const gatewayKey = generatePrivateKey();
    const grant: SpendGrant = { account: alice!.account.address, gateway: privateKeyToAccount(gatewayKey).address, asset: usd, cap: 100n * USD, expiry: BigInt(Math.floor(Date.now() / 1000)) + 86_400n, nonce: 1n };
    const apiKey = await createApiKey(alice!, grant, { chainId, vault });
    const [epochLength, genesis] = await core.protocolParams.read.epochSchedule();

    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const start = (): { child: ChildProcess; stderr: () => string } => {
      const child = spawn(process.execPath, [CLI, "serve"], {
        env: {
          PATH: process.env.PATH,
          POD_RPC_URL: rpcUrl,
          POD_CREDIT_VAULT: vault,
          POD_NODE_REGISTRY: core.nodeRegistry.address,
          POD_BOND_MANAGER: core.bondManager.address,
          POD_PROTOCOL_PARAMS: core.protocolParams.address,
          POD_TOKEN: core.podToken.address,
          POD_STABLECOINS: `${usd}=${parseUnits("0.25", 6)}`,
          POD_GATEWAY_KEY: gatewayKey,
          POD_GATEWAY_PORT: String(port),
          POD_GATEWAY_DATA_DIR: dataDir,
        },
        stdio: ["ignore", "ignore", "pipe"],
      });
      let stderr = "";
      child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
      return { child, stderr: () => stderr };
    };
    /** Serving the tiny model: the gateway is up and the node (re)joined it. */
    const servingTiny = (stderr: () => string) =>
      eventually("the gateway serving the tiny model with the node", async () => ((await (await fetch(`${url}/v1/models`, { signal: AbortSignal.timeout(5_000) })).json()) as { data: unknown[] }).data.length === 1 || undefined, 60_000).catch((error: unknown) => {
        throw new Error(`${String(error)}; the gateway said:\n${stderr()}`);
      });

    const first = start();
    gateway = first.child;
    await eventually("the gateway to listen", async () => first.stderr().includes("pod-gateway listening") || undefined, 60_000);
    node = new GatewayClient(new NodeService(nodeKey, [await loadTiny()], { maxBatch: 8, maxPrefillTokens: 4096, chainId }), {
      url: `ws://127.0.0.1:${port}/v1/nodes/ws`,
      nodeVersion: "test",
      calibratedTokensPerSecond: 100,
      statusIntervalMs: 60_000,
      reconnectMinMs: 50,
      reconnectMaxMs: 200,
    });
    node.start();
    await servingTiny(first.stderr);

    const client = new OpenAI({ apiKey, baseURL: `${url}/v1`, maxRetries: 0, timeout: 30_000 });
    const ask = (i: number) => client.completions.create({ model: TINY, prompt: `Request ${i}`, max_tokens: 3, temperature: 0 });
    const answered = new Map<string, { prompt_tokens: number; completion_tokens: number }>();
    const keep = (a: Awaited<ReturnType<typeof ask>>) => answered.set(a.id, a.usage!);
    for (const a of await Promise.all(Array.from({ length: 10 }, (_, i) => ask(i)))) keep(a);

    // Kill the gateway once some of a second burst were answered, the rest still in flight.
    const killed = new Promise<number | null>((resolve) => gateway!.once("exit", (_code, signal) => resolve(signal === "SIGKILL" ? 9 : null)));
    let answeredInBurst = 0;
    const burst = Array.from({ length: 30 }, (_, i) =>
      ask(100 + i).then((a) => {
        keep(a);
        if (++answeredInBurst === 8) gateway!.kill("SIGKILL");
      }),
    );
    const outcomes = await Promise.allSettled(burst);
    assert.equal(await killed, 9, first.stderr());
    assert.ok(answeredInBurst >= 8, `${answeredInBurst} answered before the kill`);
    assert.ok(outcomes.some((o) => o.status === "rejected"), "some requests were cut by the kill");
    const second = start();
    gateway = second.child;
    await servingTiny(second.stderr);
    for (const a of await Promise.all(Array.from({ length: 5 }, (_, i) => ask(200 + i)))) keep(a);

    // Every receipt the restarted gateway serves, in the epochs these requests fell in.
    const epochs = new Set([epochOf(Date.now() - 120_000, epochLength, genesis), epochOf(Date.now(), epochLength, genesis)]);
    const receipts: EpochReceipt[] = [];
    for (const epoch of epochs) {
      let after: string | null = null;
      do {
        const res: Response = await fetch(`${url}/v1/epochs/${epoch}/receipts?limit=7${after === null ? "" : `&after=${after}`}`);
        const page = parseEpochReceiptsPage(await res.json());
        receipts.push(...page.data);
        after = page.next;
      } while (after !== null);
    }
    assert.equal(new Set(receipts.map((r) => r.requestId)).size, receipts.length, "no receipt twice");
    for (const [id, usage] of answered) {
      const found = receipts.filter((r) => r.requestId === id);
      assert.equal(found.length, 1, `the receipt of answered request ${id}`);
      assert.deepEqual([found[0]!.promptTokens, found[0]!.completionTokens, found[0]!.status], [usage.prompt_tokens, usage.completion_tokens, "complete"]);
    }
    // Receipts of requests cut by the kill may exist (stored, then the answer was lost); never more than were sent.
    assert.ok(receipts.length >= answered.size && receipts.length <= 45, `${receipts.length} receipts for ${answered.size} answers`);
    const latest = Math.max(...epochs);
    const usage = parseEpochUsage(await (await fetch(`${url}/v1/epochs/${latest}/usage`)).json());
    assert.deepEqual(usage.unsettleable, []);
    assert.deepEqual(
      usage.data.map((u) => [u.grantId, u.cumulative]),
      [[grantIdOf(grant), receipts.reduce((sum, r) => sum + r.charged, 0n)]],
    );
    // A graceful stop with a node attached ends too.
    const exited = new Promise<number | null>((resolve) => gateway!.once("exit", (code) => resolve(code)));
    gateway.kill("SIGTERM");
    assert.equal(await exited, 0, second.stderr());
    gateway = undefined;
  } finally {
    await node?.leave("test over").catch(() => undefined);
    gateway?.kill("SIGKILL");
    await chain.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});
