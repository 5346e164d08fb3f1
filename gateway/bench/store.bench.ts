/**
 * Receipt insert throughput of the embedded PGlite store: receipts/s with the WAL fsynced per
 * (group) commit and without, one insert at a time and 64 in flight (a busy gateway).
 * Run: npx node gateway/bench/store.bench.ts [count]
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { openStore } from "../src/store/index.ts";
import { makeReceipt, makeSample } from "../test/store.suite.ts";

const count = Number(process.argv[2] ?? 3000);

async function measure(syncCommits: boolean, inFlight: number, sampleEvery: number): Promise<number> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "pod-store-bench-"));
  const store = await openStore({ dataDir, syncCommits });
  try {
    for (let i = 0; i < 200; i++) await store.insert(makeReceipt(`warm-${i}`)); // warm-up
    let next = 0;
    const started = performance.now();
    await Promise.all(Array.from({ length: inFlight }, async () => {
      while (next < count) {
        const id = `bench-${next++}`;
        await store.insert(makeReceipt(id, { epoch: 3 }), sampleEvery > 0 && next % sampleEvery === 0 ? makeSample(id) : undefined);
      }
    }));
    return count / ((performance.now() - started) / 1000);
  } finally {
    await store.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

console.log(`PGlite receipt inserts, ${count} per run (receipts/s)`);
for (const syncCommits of [true, false]) {
  for (const inFlight of [1, 64]) {
    const plain = await measure(syncCommits, inFlight, 0);
    const sampled = await measure(syncCommits, inFlight, 20);
    console.log(`  fsync ${syncCommits ? "on " : "off"}  in flight ${String(inFlight).padStart(2)}: ${plain.toFixed(0).padStart(6)}/s   with a 5% sample: ${sampled.toFixed(0).padStart(6)}/s`);
  }
}
