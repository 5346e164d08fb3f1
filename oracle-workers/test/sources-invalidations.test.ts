/**
 * Validators' invalidations from a folder of JSON files and from a validator's HTTP endpoint
 * (a real hono server on 127.0.0.1): validated field by field, deduped and sorted.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { getAddress, type Hex } from "viem";
import type { Invalidation } from "../src/epoch/types.ts";
import {
  fetchInvalidations,
  InvalidationError,
  InvalidationSourceUnavailable,
  normalizeInvalidations,
  readInvalidations,
  readInvalidationsDir,
} from "../src/sources/invalidations.ts";

const NODE_A = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8"; // lower case on the wire
const NODE_B = getAddress("0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc");
const evidence = (n: number): Hex => `0x${n.toString(16).padStart(64, "0")}`;
const inv = (node: string, epoch: number, e: number, reason = "logprobs differ"): Record<string, unknown> => ({ node, epoch, evidenceHash: evidence(e), reason });

let dir: string;
let server: Server;
let url: string;
const published = new Map<number, unknown>();
let requests = 0;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "pod-invalidations-"));
  await writeFile(join(dir, "validator-1.json"), JSON.stringify({ invalidations: [inv(NODE_B, 4, 2), inv(NODE_A, 4, 9), inv(NODE_A, 3, 1)] }));
  await writeFile(join(dir, "validator-2.json"), JSON.stringify({ invalidations: [inv(NODE_A.toUpperCase().replace("0X", "0x"), 4, 9, "also bad")] }));
  await writeFile(join(dir, "notes.txt"), "not an invalidation file");
  const app = new Hono();
  app.get("/invalidations", (c) => {
    requests += 1;
    const epoch = Number(c.req.query("epoch"));
    return published.has(epoch) ? c.json(published.get(epoch)) : c.json({ invalidations: [] });
  });
  server = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, () => resolve(s as Server)) as Server;
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

test("a folder: the epoch's entries of every *.json file, checksummed, deduped (smallest reason wins) and sorted", async () => {
  const got = await readInvalidationsDir(dir, 4);
  assert.equal(got.length, 3); // one duplicate across files, epoch 3 skipped
  const sorted = await readInvalidations(4, { dir });
  // Sorted by node as a number: 0x3c44... before 0x7099...
  assert.deepEqual(sorted, [
    { node: NODE_B, epoch: 4, evidenceHash: evidence(2), reason: "logprobs differ" },
    { node: getAddress(NODE_A), epoch: 4, evidenceHash: evidence(9), reason: "also bad" },
  ]);
  assert.deepEqual(await readInvalidations(7, { dir }), []);
});

test("a folder and a validator's URL together; reading order does not change the result", async () => {
  published.set(4, { invalidations: [inv(NODE_B, 4, 1, "token count"), inv(NODE_B, 4, 2)] });
  const got = await readInvalidations(4, { dir, urls: [url] });
  assert.deepEqual(got.map((i) => [i.node, i.evidenceHash]), [
    [NODE_B, evidence(1)],
    [NODE_B, evidence(2)],
    [getAddress(NODE_A), evidence(9)],
  ]);
  const fromUrl = await fetchInvalidations(`${url}/`, 4);
  const shuffled: Invalidation[] = [...fromUrl, ...(await readInvalidationsDir(dir, 4))].reverse();
  assert.deepEqual(normalizeInvalidations(shuffled), got);
});

test("a malformed entry names the file or URL and the field", async () => {
  const bad = await mkdtemp(join(tmpdir(), "pod-invalidations-bad-"));
  try {
    const cases: [unknown, string][] = [
      [{ invalidations: [inv(NODE_B, 4, 1), inv("0x1234", 4, 2)] }, "invalidations[1].node"],
      [{ invalidations: [{ ...inv(NODE_B, 4, 1), epoch: "4" }] }, "invalidations[0].epoch"],
      [{ invalidations: [{ ...inv(NODE_B, 4, 1), evidenceHash: "0xabc" }] }, "invalidations[0].evidenceHash"],
      [{ invalidations: [{ ...inv(NODE_B, 4, 1), reason: "" }] }, "invalidations[0].reason"],
      [{ invalidations: [null] }, "invalidations[0]"],
      [{ list: [] }, "invalidations"],
      [[], "body"],
    ];
    for (const [content, field] of cases) {
      const file = join(bad, "v.json");
      await writeFile(file, JSON.stringify(content));
      await assert.rejects(readInvalidations(4, { dir: bad }), (error: unknown) => {
        assert.ok(error instanceof InvalidationError, String(error));
        assert.deepEqual([error.source, error.field], [file, field]);
        return true;
      });
    }
    await writeFile(join(bad, "v.json"), "{ not json");
    await assert.rejects(readInvalidations(4, { dir: bad }), (error: unknown) => error instanceof InvalidationError && error.field === "body" && error.source.endsWith("v.json"));
    await assert.rejects(readInvalidations(4, { dir: join(bad, "missing") }), (error: unknown) => error instanceof InvalidationError && error.field === "dir");
  } finally {
    await rm(bad, { recursive: true, force: true });
  }

  published.set(5, { invalidations: [inv(NODE_B, 5, 1), { ...inv(NODE_B, 5, 2), node: 7 }] });
  await assert.rejects(fetchInvalidations(url, 5), (error: unknown) => {
    assert.ok(error instanceof InvalidationError);
    assert.deepEqual([error.source, error.field], [`${url}/invalidations?epoch=5`, "invalidations[1].node"]);
    return true;
  });
  // A validator answering for another epoch than asked is wrong, not filtered.
  published.set(6, { invalidations: [inv(NODE_B, 7, 1)] });
  await assert.rejects(fetchInvalidations(url, 6), (error: unknown) => error instanceof InvalidationError && error.field === "invalidations[0].epoch");
});

test("a validator that is down: InvalidationSourceUnavailable after retries (the epoch waits)", async () => {
  const down = `http://127.0.0.1:1`;
  const before = requests;
  const started = Date.now();
  await assert.rejects(readInvalidations(4, { dir, urls: [url, down], retries: 2, backoffMs: 10 }), (error: unknown) => {
    assert.ok(error instanceof InvalidationSourceUnavailable);
    assert.match(error.source, /127\.0\.0\.1:1\/invalidations\?epoch=4/);
    return true;
  });
  assert.ok(Date.now() - started < 1_000);
  assert.equal(requests, before + 1);
});
