/** The ReceiptStore on embedded PGlite, plus what only PGlite has (data-dir lock) and sampling. */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { after, describe, it } from "node:test";
import { DataDirLockedError, openStore, PPM, SchemaTooNewError, shouldSample } from "../src/store/index.ts";
import { Batcher } from "../src/store/batcher.ts";
import { openPglite } from "../src/store/sqlClient.ts";
import { makeReceipt, storeSuite } from "./store.suite.ts";

storeSuite("PGlite", async () => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "pod-store-test-"));
  return { open: () => openStore({ dataDir }), cleanup: () => rm(dataDir, { recursive: true, force: true }) };
});

describe("PGlite data directory", { timeout: 120_000 }, () => {
  const dirs: string[] = [];
  after(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));
  const tempDir = async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "pod-store-dir-"));
    dirs.push(dir);
    return dir;
  };

  it("is locked while open, taken over after its owner died, and refused when the schema is newer", async () => {
    const dataDir = await tempDir();
    const store = await openStore({ dataDir, syncCommits: false });
    await assert.rejects(openStore({ dataDir }), DataDirLockedError);
    await store.insert(makeReceipt("lock-1"));
    await store.close();

    // A gateway killed with kill -9 leaves its lock behind: a pid that no longer exists.
    await writeFile(path.join(dataDir, "store.lock"), "999999999");
    const client = await openPglite(dataDir, false);
    await client.query("INSERT INTO gateway.schema_migrations (version, name) VALUES (99, 'from the future')");
    await client.close();
    await assert.rejects(openStore({ dataDir }), SchemaTooNewError);
    const again = await openPglite(dataDir, false); // the failed open released its lock
    await again.close();
  });
});

describe("shouldSample", () => {
  const salt = "a secret salt of 32 bytes ......";
  const ids = Array.from({ length: 10_000 }, (_, i) => `chatcmpl-${i}`);
  const randomIds = Array.from({ length: 10_000 }, () => crypto.randomUUID());

  it("keeps about ratePpm of every million ids (within 5 standard deviations over 10k)", () => {
    for (const ratePpm of [10_000, 50_000, 250_000, 900_000]) {
      for (const set of [ids, randomIds]) {
        const p = ratePpm / PPM;
        const expected = set.length * p;
        const sd = Math.sqrt(set.length * p * (1 - p));
        const got = set.filter((id) => shouldSample(salt, id, ratePpm)).length;
        assert.ok(Math.abs(got - expected) <= 5 * sd, `rate ${ratePpm}: ${got} of ${set.length}, expected ${expected} ± ${5 * sd}`);
      }
    }
    assert.ok(ids.every((id) => !shouldSample(salt, id, 0) && shouldSample(salt, id, PPM)));
  });

  it("depends on the salt and the id only: deterministic, unpredictable without the salt, monotone in the rate", () => {
    const picked = (s: string) => new Set(ids.filter((id) => shouldSample(s, id, 100_000)));
    assert.deepEqual(picked(salt), picked(salt));
    // Independent salts overlap like independent draws: about p^2 of the ids (100 of 10k).
    const a = picked(salt);
    const overlap = [...picked("another secret salt of 32 bytes.")].filter((id) => a.has(id)).length;
    assert.ok(overlap > 50 && overlap < 160, `overlap ${overlap}`);
    // A larger rate keeps every id a smaller one kept (a rate change never unsamples).
    assert.ok([...a].every((id) => shouldSample(salt, id, 100_001)));
    // Neighbouring ids are not correlated: sampled pairs of consecutive ids occur about p^2 of the time.
    const pairs = ids.slice(1).filter((id, i) => a.has(id) && a.has(ids[i]!)).length;
    assert.ok(pairs < 160, `consecutive pairs ${pairs}`);
  });

  it("refuses a bad rate or a weak salt", () => {
    assert.throws(() => shouldSample(salt, "x", -1), RangeError);
    assert.throws(() => shouldSample(salt, "x", 1.5), RangeError);
    assert.throws(() => shouldSample(salt, "x", PPM + 1), RangeError);
    assert.throws(() => shouldSample("short", "x", 10), RangeError);
  });
});

describe("PGlite crash safety", { timeout: 120_000 }, () => {
  it("keeps every acknowledged receipt when the gateway is killed with SIGKILL mid-write", async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), "pod-store-crash-"));
    try {
      const storeUrl = new URL("../src/store/index.ts", import.meta.url).href;
      const suiteUrl = new URL("./store.suite.ts", import.meta.url).href;
      // The child inserts 8 at a time, forever, and acknowledges each insert once it resolved.
      const child = spawn(process.execPath, ["--input-type=module", "-e", `
        const { openStore } = await import(${JSON.stringify(storeUrl)});
        const { makeReceipt, makeSample } = await import(${JSON.stringify(suiteUrl)});
        const store = await openStore({ dataDir: ${JSON.stringify(dataDir)} });
        process.stdout.write("ready\\n");
        let next = 0;
        const worker = async () => { for (;;) {
          const id = "crash-" + next++;
          await store.insert(makeReceipt(id, { epoch: 77 }), next % 4 === 0 ? makeSample(id) : undefined);
          process.stdout.write("ack " + id + "\\n");
        } };
        await Promise.all(Array.from({ length: 8 }, worker));
      `], { stdio: ["ignore", "pipe", "inherit"] });
      const acked = new Set<string>();
      await new Promise<void>((resolve, reject) => {
        child.once("exit", (code) => reject(new Error(`child exited early (${code})`)));
        createInterface({ input: child.stdout }).on("line", (line) => {
          if (line.startsWith("ack ")) acked.add(line.slice(4));
          if (acked.size === 300) {
            child.removeAllListeners("exit");
            child.once("exit", () => resolve());
            child.kill("SIGKILL");
          }
        });
      });
      const store = await openStore({ dataDir }); // takes over the dead child's lock
      try {
        const stored = new Set<string>();
        let after: string | undefined;
        do {
          const page = await store.receiptsOfEpoch(77, { after, limit: 1000 });
          for (const r of page.items) stored.add(r.requestId);
          after = page.next ?? undefined;
        } while (after !== undefined);
        const lost = [...acked].filter((id) => !stored.has(id));
        assert.deepEqual(lost, []);
        assert.ok(stored.size >= acked.size);
      } finally {
        await store.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe("Batcher", () => {
  it("writes what arrives meanwhile as one batch, and isolates a failing item", async () => {
    const batches: number[][] = [];
    const batcher = new Batcher<number, number>(async (items) => {
      batches.push(items);
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (items.includes(13)) throw new Error("bad item 13");
      return items.map((n) => n * 2);
    }, 4);
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => batcher.submit(i + 10)));
    assert.deepEqual(results.map((r) => (r.status === "fulfilled" ? r.value : "rejected")), [20, 22, 24, "rejected", 28, 30, 32, 34, 36, 38]);
    // First alone (no waiting when idle), then at most 4 at a time; the batch holding 13 was retried one by one.
    assert.deepEqual(batches[0], [10]);
    assert.ok(batches.every((b) => b.length <= 4));
    assert.deepEqual(batches.slice(1, 6), [[11, 12, 13, 14], [11], [12], [13], [14]]);
    // A submit from a caller's continuation is never stranded.
    assert.equal(await batcher.submit(1).then(() => batcher.submit(2)), 4);
    await batcher.idle();
  });
});
