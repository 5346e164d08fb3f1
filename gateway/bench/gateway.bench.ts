/**
 * What the gateway costs: the latency it adds (p50, p99) over calling a worker node directly,
 * and small requests per second through it. The node is fixtureNode.ts (the real node protocol
 * and real signed receipts, no model: it answers one token at once), so the figures are the
 * gateway's own work: HTTP, API key, credit guard, routing, WebSocket frames, receipt
 * verification and the receipt's durable insert (PGlite, WAL fsynced per group commit, as in
 * production; chain reads cached as with the default POD_CHAIN_CACHE_MS).
 *
 * Three processes: this one (in-process chain + the gateway), the fixture node and the load
 * client (loadClient.ts, keep-alive connections). Loopback only; bounded in count and time.
 * The model-backed variant (the tiny ONNX model in process) is gateway.model.bench.ts.
 *
 * Run: npm run bench:gateway [-- sequential-requests concurrent-seconds concurrency] (1000 5 64)
 * Env: BENCH_FSYNC=0 to measure without the WAL fsync (not how the gateway runs); BENCH_PHASE_CLOCK=1
 * prints the clock at the gateway phase's bounds (to cut a --cpu-prof profile of this process).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { availableParallelism, loadavg } from "node:os";
import { createInterface } from "node:readline";
import { stringToHex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { signNodeKeyOwnership } from "../../sdk/src/typedData.ts";
import { TINY } from "../../node/test/fixtures.ts";
import { startGateway, USD } from "../test/fixtures.ts";
import type { LoadResult, Plan } from "./loadClient.ts";

if (process.argv.includes("--help")) {
  console.log("usage: npm run bench:gateway [-- sequential-requests concurrent-seconds concurrency] (default 1000 5 64); BENCH_FSYNC=0 skips the WAL fsync");
  process.exit(0);
}
const sequential = Number(process.argv[2] ?? 1000);
const seconds = Number(process.argv[3] ?? 5);
const concurrency = Number(process.argv[4] ?? 64);
const fsync = process.env.BENCH_FSYNC !== "0";
const BENCH_TIMEOUT_MS = 10 * 60_000;

class BenchError extends Error {
  override name = "BenchError";
}

/** Starts `script` with Node's own binary; `onLine` sees each stdout line. Stopped by pid. */
function startChild(script: string, args: string[], env: Record<string, string>, onLine: (line: string) => void): ChildProcess {
  const child = spawn(process.execPath, [script, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "inherit"] });
  createInterface({ input: child.stdout! }).on("line", onLine);
  return child;
}

function exited(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}

const gw = await startGateway({ syncCommits: fsync, chainCacheMs: 2000 });
const children: ChildProcess[] = [];
const watchdog = setTimeout(() => {
  console.error("bench timed out");
  for (const child of children) child.kill("SIGKILL");
  process.exit(1);
}, BENCH_TIMEOUT_MS);
try {
  await gw.deposit(gw.core.alice, 1_000n * USD);
  const { key: apiKey } = await gw.apiKey(gw.core.alice, { cap: 1_000n * USD });

  // A fresh node key registered on-chain for the tiny model, run by the fixture process.
  const nodeKey = generatePrivateKey();
  const node = privateKeyToAccount(nodeKey);
  const owner = gw.core.alice.account;
  const nonce = await gw.core.nodeRegistry.read.keyNonce([node.address]);
  const proof = await signNodeKeyOwnership(node, { account: owner.address, nonce, chainId: gw.chainId, registry: gw.core.nodeRegistry.address });
  await gw.core.nodeRegistry.write.registerNode([node.address, [stringToHex(TINY, { size: 32 })], "ipfs://bench", proof], { account: owner });

  const directPort = await new Promise<number>((resolve, reject) => {
    const fixture = startChild(
      new URL("./fixtureNode.ts", import.meta.url).pathname,
      [],
      { POD_FIXTURE_NODE_KEY: nodeKey, POD_FIXTURE_GATEWAY_WS: gw.baseURL.replace(/^http/, "ws").replace(/\/v1$/, "/v1/nodes/ws"), POD_FIXTURE_MODEL: TINY, POD_FIXTURE_CHAIN_ID: String(gw.chainId) },
      (line) => {
        const ready = /^ready (\d+)$/.exec(line);
        if (ready !== null) resolve(Number(ready[1]));
      },
    );
    children.push(fixture);
    fixture.once("exit", (code) => reject(new BenchError(`the fixture node exited (${code}) before joining`)));
  });

  const plan: Plan = {
    direct: { url: `http://127.0.0.1:${directPort}/v1/completions`, headers: { "content-type": "application/json" } },
    gateway: { url: `${gw.baseURL}/completions`, headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" } },
    body: JSON.stringify({ model: TINY, prompt: "Hi", max_tokens: 1, temperature: 0 }),
    warmup: 500,
    sequential,
    seconds,
    concurrency,
  };
  // This process's CPU time (the gateway's, the idle chain's) while the gateway phase runs.
  let gatewayPhaseStart: { cpu: NodeJS.CpuUsage; at: number } | undefined;
  let gatewayPhaseCpu: { cpuMs: number; wallMs: number } | undefined;
  let result: LoadResult | undefined;
  const client = startChild(new URL("./loadClient.ts", import.meta.url).pathname, [JSON.stringify(plan)], {}, (line) => {
    if (line === "phase gateway") gatewayPhaseStart = { cpu: process.cpuUsage(), at: performance.now() };
    // With --cpu-prof: the monotonic clock (µs, a profile's time base) at the gateway phase's bounds.
    if (process.env.BENCH_PHASE_CLOCK === "1" && (line === "phase gateway" || line === "phase done")) console.error(`${line} at ${process.hrtime.bigint() / 1000n} µs`);
    if (line === "phase done" && gatewayPhaseStart !== undefined) {
      const used = process.cpuUsage(gatewayPhaseStart.cpu);
      gatewayPhaseCpu = { cpuMs: (used.user + used.system) / 1000, wallMs: performance.now() - gatewayPhaseStart.at };
    }
    if (line.startsWith("result ")) result = JSON.parse(line.slice("result ".length)) as LoadResult;
  });
  children.push(client);
  const code = await exited(client);
  if (code !== 0 || result === undefined) throw new BenchError(`the load client failed (exit ${code})`);

  const { latencyMs, throughput } = result;
  const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
  const ms = (x: number) => `${x.toFixed(2)} ms`;
  const rate = (r: LoadResult["throughput"]["direct"]) => `${r.perSecond.toFixed(0)} requests/s (${r.done} in ${r.elapsed.toFixed(1)} s, ${concurrency} connections${r.errors > 0 ? `, ${r.errors} errors` : ""})`;
  console.log(`pod gateway bench: fixture node (real protocol and signed receipts, no model), prompt "Hi", max_tokens 1; PGlite fsync ${fsync ? "on" : "off"}`);
  console.log(`  gateway, fixture node and load client in 3 processes on ${availableParallelism()} cores (load average ${loadavg()[0]!.toFixed(1)})`);
  console.log(`  direct to the node     p50 ${ms(pct(latencyMs.direct, 50))}  p99 ${ms(pct(latencyMs.direct, 99))}  (${sequential} sequential each, alternating)`);
  console.log(`  through the gateway    p50 ${ms(pct(latencyMs.gateway, 50))}  p99 ${ms(pct(latencyMs.gateway, 99))}`);
  console.log(`  added by the gateway   p50 ${ms(pct(latencyMs.gateway, 50) - pct(latencyMs.direct, 50))}  p99 ${ms(pct(latencyMs.gateway, 99) - pct(latencyMs.direct, 99))}`);
  console.log(`  throughput, direct     ${rate(throughput.direct)}`);
  console.log(`  throughput, gateway    ${rate(throughput.gateway)}`);
  if (gatewayPhaseCpu !== undefined && throughput.gateway.done > 0) {
    const perRequestUs = (gatewayPhaseCpu.cpuMs * 1000) / throughput.gateway.done;
    console.log(`  gateway process CPU    ${perRequestUs.toFixed(0)} µs per request (${((100 * gatewayPhaseCpu.cpuMs) / gatewayPhaseCpu.wallMs).toFixed(0)}% of one core during the gateway phase)`);
  }
} finally {
  clearTimeout(watchdog);
  for (const child of children) if (child.exitCode === null) child.kill("SIGTERM");
  await Promise.all(children.map(exited));
  await gw.close();
}
