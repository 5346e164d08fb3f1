/**
 * The validator's memory across restarts: every node's strike record, the sampled pairs of
 * kept failures (the evidence of a later conviction needs them) and the convictions made, in
 * DATA_DIR/records.json. Written atomically (temp file, rename) before the cursor moves past a
 * page, so a restart neither forgets a sample nor counts one twice.
 */
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { SampledPair } from "./evidence.ts";
import type { Conviction } from "./service.ts";
import { seenFrom, seenIds, type NodeRecord } from "./strikes.ts";

export const RECORDS_FILE = "records.json";
const VERSION = 1;

export type ValidatorMemory = { records: NodeRecord[]; pairs: SampledPair[]; convictions: Conviction[] };

export class RecordStoreError extends Error {
  override name = "RecordStoreError";
}

/** JSON has no -Infinity (a logprob may be) nor bigint: both travel as tagged strings. */
const replacer = (_key: string, v: unknown): unknown => (typeof v === "bigint" ? `bigint:${v}` : typeof v === "number" && !Number.isFinite(v) ? `number:${v}` : v);
const reviver = (_key: string, v: unknown): unknown => {
  if (typeof v !== "string") return v;
  if (v.startsWith("bigint:")) return BigInt(v.slice(7));
  if (v.startsWith("number:")) return Number(v.slice(7));
  return v;
};

export async function saveMemory(dataDir: string, memory: ValidatorMemory): Promise<void> {
  await mkdir(dataDir, { recursive: true });
  const body = { version: VERSION, ...memory, records: memory.records.map((r) => ({ ...r, seen: seenIds(r.seen) })) };
  const path = join(dataDir, RECORDS_FILE);
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, JSON.stringify(body, replacer));
  await rename(temp, path);
}

/** The stored memory; empty when the folder has none yet. */
export async function loadMemory(dataDir: string): Promise<ValidatorMemory> {
  let text: string;
  try {
    text = await readFile(join(dataDir, RECORDS_FILE), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { records: [], pairs: [], convictions: [] };
    throw error;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text, reviver);
  } catch (error) {
    throw new RecordStoreError(`${RECORDS_FILE} is not JSON: ${(error as Error).message}`);
  }
  const o = raw as { version?: unknown; records?: unknown; pairs?: unknown; convictions?: unknown };
  if (typeof o !== "object" || o === null || o.version !== VERSION || !Array.isArray(o.records) || !Array.isArray(o.pairs) || !Array.isArray(o.convictions)) {
    throw new RecordStoreError(`${RECORDS_FILE} is not a version ${VERSION} validator memory`);
  }
  const records = (o.records as (Omit<NodeRecord, "seen"> & { seen: unknown })[]).map((r) => {
    if (!Array.isArray(r.seen) || !r.seen.every((id) => typeof id === "string")) throw new RecordStoreError(`${RECORDS_FILE}: record of ${String(r.node)} has no seen ids`);
    return { ...r, seen: seenFrom(r.seen as string[]) } as NodeRecord;
  });
  return { records, pairs: o.pairs as SampledPair[], convictions: o.convictions as Conviction[] };
}
