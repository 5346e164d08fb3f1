/**
 * The load generator of gateway.bench.ts, in its own process: keep-alive HTTP/1.1 connections
 * (node:http, no fetch overhead), first one request at a time alternating between the node
 * called directly and the gateway (latency), then `concurrency` connections for `seconds`
 * against each (throughput). Prints "phase <name>" as each throughput phase starts and ends,
 * then "result <json>" with the raw figures.
 *
 * Run: npx node gateway/bench/loadClient.ts '<json plan>' (see Plan; gateway.bench.ts builds it)
 */
import { Agent, request } from "node:http";

type Target = { url: string; headers: Record<string, string> };
export type Plan = { direct: Target; gateway: Target; body: string; warmup: number; sequential: number; seconds: number; concurrency: number };
export type Throughput = { perSecond: number; done: number; elapsed: number; errors: number };
export type LoadResult = { latencyMs: { direct: number[]; gateway: number[] }; throughput: { direct: Throughput; gateway: Throughput } };

class LoadError extends Error {
  override name = "LoadError";
}

if (process.argv.includes("--help") || process.argv[2] === undefined) {
  console.log("usage: loadClient.ts '<json plan>' — {direct, gateway: {url, headers}, body, warmup, sequential, seconds, concurrency}; prints JSON figures");
  process.exit(process.argv.includes("--help") ? 0 : 2);
}
const plan = JSON.parse(process.argv[2]) as Plan;
const agent = new Agent({ keepAlive: true, maxSockets: plan.concurrency });

function call(target: Target): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(target.url, { method: "POST", agent, headers: { ...target.headers, "content-length": Buffer.byteLength(plan.body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        if (res.statusCode !== 200) return reject(new LoadError(`${target.url}: HTTP ${res.statusCode} ${Buffer.concat(chunks).toString("utf8").slice(0, 200)}`));
        resolve(performance.now() - started);
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(plan.body);
  });
}

async function throughput(target: Target): Promise<Throughput> {
  let done = 0;
  let errors = 0;
  const started = performance.now();
  const deadline = started + plan.seconds * 1000;
  await Promise.all(
    Array.from({ length: plan.concurrency }, async () => {
      while (performance.now() < deadline) {
        try {
          await call(target);
          done++;
        } catch (error) {
          if (++errors > 10) throw error;
        }
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  return { perSecond: done / elapsed, done, elapsed, errors };
}

// Warm both paths (JIT, key and chain caches, connections).
for (let i = 0; i < plan.warmup; i++) await call(i % 2 === 0 ? plan.direct : plan.gateway);
const latencyMs = { direct: [] as number[], gateway: [] as number[] };
for (let i = 0; i < plan.sequential; i++) {
  latencyMs.direct.push(await call(plan.direct));
  latencyMs.gateway.push(await call(plan.gateway));
}
// Phase markers let the parent attribute its own CPU time to the gateway phase.
console.log("phase direct");
const direct = await throughput(plan.direct);
console.log("phase gateway");
const gateway = await throughput(plan.gateway);
console.log("phase done");
const result: LoadResult = { latencyMs, throughput: { direct, gateway } };
console.log(`result ${JSON.stringify(result)}`);
agent.destroy();
