/**
 * What a conviction costs the node off-chain: its receipts of the affected epochs (those of its
 * failing samples and the current one) are not paid. The validator keeps one file per node and
 * epoch, `<dir>/invalidations/<node>-<epoch>.json` = `{ "invalidations": Invalidation[] }` (the
 * oracle's folder format), and serves them as `GET /invalidations?epoch=N`, both read back with
 * the oracle's own parser (sources/invalidations.ts), so what is served is what the oracle accepts.
 */
import { randomBytes } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Hono } from "hono";
import { getAddress, type Address, type Hex } from "viem";
import type { Invalidation } from "../epoch/types.ts";
import { normalizeInvalidations, parseInvalidations, readInvalidationsDir } from "../sources/invalidations.ts";

export const INVALIDATIONS_FOLDER = "invalidations";

/** The oracle's cap on a reason's length (sources/invalidations.ts). */
const MAX_REASON_LENGTH = 1_000;

/** The invalidations of one conviction: one per epoch, sorted. */
export function invalidationsFor(node: Address, epochs: readonly number[], evidenceHash: Hex, reason: string): Invalidation[] {
  const text = reason.length === 0 ? "convicted by a validator" : reason.slice(0, MAX_REASON_LENGTH);
  const list = [...new Set(epochs)].map((epoch) => ({ node: getAddress(node), epoch, evidenceHash: evidenceHash.toLowerCase() as Hex, reason: text }));
  // Round-trip through the oracle's parser: a malformed entry fails here, not at the oracle.
  return normalizeInvalidations(parseInvalidations({ invalidations: list }, "conviction"));
}

/**
 * Adds `list` to the validator's folder: each (node, epoch) file gains the entries it lacks
 * (written to a temporary file, then renamed). Returns the paths written.
 */
export async function storeInvalidations(dir: string, list: readonly Invalidation[]): Promise<string[]> {
  const folder = join(dir, INVALIDATIONS_FOLDER);
  await mkdir(folder, { recursive: true });
  const groups = new Map<string, Invalidation[]>();
  for (const inv of list) {
    const name = `${getAddress(inv.node)}-${inv.epoch}.json`;
    groups.set(name, [...(groups.get(name) ?? []), inv]);
  }
  const written: string[] = [];
  for (const [name, entries] of groups) {
    const path = join(folder, name);
    const existing = await readExisting(path);
    const merged = normalizeInvalidations([...existing, ...entries]);
    const tmp = join(folder, `.${name}.${randomBytes(6).toString("hex")}.tmp`);
    await writeFile(tmp, `${JSON.stringify({ invalidations: merged }, null, 2)}\n`, "utf8");
    await rename(tmp, path);
    written.push(path);
  }
  return written;
}

async function readExisting(path: string): Promise<Invalidation[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  return parseInvalidations(JSON.parse(text) as unknown, path);
}

/** The stored invalidations of `epoch` (none when the folder does not exist yet). */
export async function storedInvalidations(dir: string, epoch: number): Promise<Invalidation[]> {
  const folder = join(dir, INVALIDATIONS_FOLDER);
  await mkdir(folder, { recursive: true });
  return normalizeInvalidations(await readInvalidationsDir(folder, epoch));
}

/** `GET /invalidations?epoch=N` → `{ "invalidations": Invalidation[] }` from `dir`'s folder. */
export function invalidationsRoutes(dir: string): Hono {
  const app = new Hono();
  app.get("/invalidations", async (c) => {
    const raw = c.req.query("epoch");
    const epoch = raw !== undefined && /^(0|[1-9][0-9]{0,14})$/.test(raw) ? Number(raw) : null;
    if (epoch === null) return c.json({ error: "epoch must be a non-negative integer" }, 400);
    return c.json({ invalidations: await storedInvalidations(dir, epoch) });
  });
  return app;
}
