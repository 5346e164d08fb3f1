/**
 * The gateway with a real model behind it (gateway.bench.ts measures the gateway alone, with a
 * fixture node): latency it adds (p50, p99) over calling the same worker node directly (the
 * node's operator-local OpenAI endpoint), and small requests per second through it.
 * One real node on the tiny model, max_tokens 1 (the fastest honest request: a real prefill, one
 * sampled token, a node-signed receipt), the store fsyncing its commits and chain reads cached
 * as in production (POD_CHAIN_CACHE_MS default). Loopback only; bounded in count and time.
 * Run: npx node gateway/bench/gateway.model.bench.ts [sequential-requests concurrent-seconds concurrency] (500 5 32)
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { availableParallelism, loadavg } from "node:os";
import { serve } from "@hono/node-server";
import { createLocalApp } from "../../node/src/server/local.ts";
import { TINY } from "../../node/test/fixtures.ts";
import { startGateway, USD } from "../test/fixtures.ts";

if (process.argv.includes("--help")) {
  console.log("usage: npx node gateway/bench/gateway.model.bench.ts [sequential-requests concurrent-seconds concurrency] (default 500 5 32); BENCH_FSYNC=0 skips the WAL fsync");
  process.exit(0);
}
const sequential = Number(process.argv[2] ?? 500);
const seconds = Number(process.argv[3] ?? 5);
const concurrency = Number(process.argv[4] ?? 32);

// BENCH_FSYNC=0 measures without the WAL fsync (not how the gateway runs).
const gw = await startGateway({ syncCommits: process.env.BENCH_FSYNC !== "0", chainCacheMs: 2000 });
let local: Server | undefined;
try {
  await gw.deposit(gw.core.alice, 1_000n * USD);
  const { key } = await gw.apiKey(gw.core.alice);
  const node = await gw.startNode();
  local = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: createLocalApp(node.service).fetch, hostname: "127.0.0.1", port: 0 }, () => resolve(s as Server));
  });
  const direct = `http://127.0.0.1:${(local.address() as AddressInfo).port}/v1/completions`;
  const viaGateway = `${gw.baseURL}/completions`;
  const body = JSON.stringify({ model: TINY, prompt: "Hi", max_tokens: 1, temperature: 0 });
  const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" };

  async function call(url: string): Promise<number> {
    const started = performance.now();
    const res = await fetch(url, { method: "POST", headers, body });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`${url}: HTTP ${res.status}`);
    return performance.now() - started;
  }

  // Warm both paths (JIT, key cache, chain caches, connections).
  for (let i = 0; i < 200; i++) await call(i % 2 === 0 ? direct : viaGateway);

  // Latency: one request at a time, alternating, so drift hits both alike.
  const lat = { direct: [] as number[], gateway: [] as number[] };
  for (let i = 0; i < sequential; i++) {
    lat.direct.push(await call(direct));
    lat.gateway.push(await call(viaGateway));
  }
  const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
  const ms = (x: number) => `${x.toFixed(2)} ms`;

  // Throughput: `concurrency` clients for `seconds`, to the node alone, then through the gateway.
  async function throughput(url: string): Promise<{ perSecond: number; done: number; elapsed: number }> {
    let done = 0;
    const started = performance.now();
    const deadline = started + seconds * 1000;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < deadline) {
          await call(url);
          done++;
        }
      }),
    );
    const elapsed = (performance.now() - started) / 1000;
    return { perSecond: done / elapsed, done, elapsed };
  }
  const directRate = await throughput(direct);
  const gatewayRate = await throughput(viaGateway);
  const rate = (r: { perSecond: number; done: number; elapsed: number }) => `${r.perSecond.toFixed(0)} requests/s (${r.done} in ${r.elapsed.toFixed(1)} s, ${concurrency} concurrent)`;

  const fsync = process.env.BENCH_FSYNC !== "0";
  console.log(`pod gateway bench: ${TINY}, max_tokens 1, one node, PGlite fsync ${fsync ? "on" : "off"}; client, gateway and node in one process on ${availableParallelism()} cores (load average ${loadavg()[0]!.toFixed(1)})`);
  console.log(`  direct to the node     p50 ${ms(pct(lat.direct, 50))}  p99 ${ms(pct(lat.direct, 99))}  (${sequential} sequential)`);
  console.log(`  through the gateway    p50 ${ms(pct(lat.gateway, 50))}  p99 ${ms(pct(lat.gateway, 99))}`);
  console.log(`  added by the gateway   p50 ${ms(pct(lat.gateway, 50) - pct(lat.direct, 50))}  p99 ${ms(pct(lat.gateway, 99) - pct(lat.direct, 99))}`);
  console.log(`  throughput, direct     ${rate(directRate)}`);
  console.log(`  throughput, gateway    ${rate(gatewayRate)}`);
} finally {
  local?.closeAllConnections();
  local?.close();
  await gw.close();
}
