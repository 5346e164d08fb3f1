/**
 * Validators' invalidations of an epoch, from a folder (`<dir>/*.json`) and/or validators' HTTP
 * endpoints (`GET <url>/invalidations?epoch=n`), each `{ "invalidations": Invalidation[] }`.
 * Every field is validated (errors name the file or URL and the field); the result is deduped
 * and sorted, so the same inputs read in any order give the same list. A validator that cannot
 * be reached raises InvalidationSourceUnavailable: closing without it would pay what it refused.
 *
 * @example
 * const invalidations = await readInvalidations(12, { dir: "./invalidations", urls: ["http://validator-1:8800"] });
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { getAddress, isAddress, isHex, type Hex } from "viem";
import type { Invalidation } from "../epoch/types.ts";
import { getWithRetries, RetriesExhausted, type TextResponse } from "./http.ts";

export type InvalidationSources = {
  /** A folder of `*.json` files; entries of other epochs are skipped. */
  dir?: string;
  /** Validators' base URLs; each must answer for exactly the asked epoch. */
  urls?: readonly string[];
  timeoutMs?: number;
  retries?: number;
  backoffMs?: number;
  signal?: AbortSignal;
};

/** Malformed invalidations; `source` is the file or URL, `field` where (`invalidations[2].node`). */
export class InvalidationError extends Error {
  override name = "InvalidationError";
  readonly source: string;
  readonly field: string;
  constructor(source: string, field: string, message: string) {
    super(`${source}: ${field}: ${message}`);
    this.source = source;
    this.field = field;
  }
}

/** A validator's endpoint gave no answer after every retry. */
export class InvalidationSourceUnavailable extends Error {
  override name = "InvalidationSourceUnavailable";
  readonly source: string;
  constructor(source: string, message: string) {
    super(`${source}: ${message}`);
    this.source = source;
  }
}

const MAX_REASON_LENGTH = 1_000;

/** All invalidations of `epoch` from every source, deduped and sorted. */
export async function readInvalidations(epoch: number, sources: InvalidationSources): Promise<Invalidation[]> {
  const lists = await Promise.all([
    sources.dir === undefined ? [] : readInvalidationsDir(sources.dir, epoch),
    ...(sources.urls ?? []).map((url) => fetchInvalidations(url, epoch, sources)),
  ]);
  return normalizeInvalidations(lists.flat());
}

/** The invalidations of `epoch` in `<dir>/*.json` (files read in name order). */
export async function readInvalidationsDir(dir: string, epoch: number): Promise<Invalidation[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((name) => name.endsWith(".json")).sort();
  } catch (error) {
    throw new InvalidationError(dir, "dir", `cannot be listed: ${(error as Error).message}`);
  }
  const out: Invalidation[] = [];
  for (const name of names) {
    const file = join(dir, name);
    const text = await readFile(file, "utf8");
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      throw new InvalidationError(file, "body", "is not JSON");
    }
    out.push(...parseInvalidations(raw, file).filter((inv) => inv.epoch === epoch));
  }
  return out;
}

/** `GET <url>/invalidations?epoch=n` with retries; every entry must be of `epoch`. */
export async function fetchInvalidations(url: string, epoch: number, options: Omit<InvalidationSources, "dir" | "urls"> = {}): Promise<Invalidation[]> {
  const endpoint = `${url.replace(/\/+$/, "")}/invalidations?epoch=${epoch}`;
  let res: TextResponse;
  try {
    res = await getWithRetries(endpoint, {
      timeoutMs: options.timeoutMs ?? 10_000,
      retries: options.retries ?? 3,
      backoffMs: options.backoffMs ?? 250,
      maxBackoffMs: 5_000,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
  } catch (error) {
    if (error instanceof RetriesExhausted) throw new InvalidationSourceUnavailable(endpoint, error.message);
    throw error;
  }
  if (res.status !== 200) throw new InvalidationError(endpoint, "status", `answered ${res.status}`);
  let raw: unknown;
  try {
    raw = JSON.parse(res.body);
  } catch {
    throw new InvalidationError(endpoint, "body", "is not JSON");
  }
  const list = parseInvalidations(raw, endpoint);
  list.forEach((inv, i) => {
    if (inv.epoch !== epoch) throw new InvalidationError(endpoint, `invalidations[${i}].epoch`, `is ${inv.epoch}, not the asked epoch ${epoch}`);
  });
  return list;
}

/** Validates `{ invalidations: [...] }`; addresses checksummed, hashes lowercase. */
export function parseInvalidations(raw: unknown, source: string): Invalidation[] {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new InvalidationError(source, "body", "must be an object");
  const list = (raw as Record<string, unknown>).invalidations;
  if (!Array.isArray(list)) throw new InvalidationError(source, "invalidations", "must be an array");
  return list.map((item, i) => parseInvalidation(item, source, `invalidations[${i}]`));
}

function parseInvalidation(raw: unknown, source: string, field: string): Invalidation {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new InvalidationError(source, field, "must be an object");
  const o = raw as Record<string, unknown>;
  const fail = (key: string, message: string) => new InvalidationError(source, `${field}.${key}`, message);
  if (typeof o.node !== "string" || !isAddress(o.node, { strict: false })) throw fail("node", "must be an address");
  if (typeof o.epoch !== "number" || !Number.isSafeInteger(o.epoch) || o.epoch < 0) throw fail("epoch", "must be a non-negative integer");
  if (typeof o.evidenceHash !== "string" || !isHex(o.evidenceHash) || o.evidenceHash.length !== 66) throw fail("evidenceHash", "must be 32 bytes of hex");
  if (typeof o.reason !== "string" || o.reason.length === 0 || o.reason.length > MAX_REASON_LENGTH) throw fail("reason", `must be a string of 1 to ${MAX_REASON_LENGTH} characters`);
  return { node: getAddress(o.node), epoch: o.epoch, evidenceHash: o.evidenceHash.toLowerCase() as Hex, reason: o.reason };
}

/**
 * One entry per (node, epoch, evidence), sorted by node, epoch, evidence. When sources disagree
 * on the reason for the same evidence, the smallest reason wins, whatever the reading order.
 */
export function normalizeInvalidations(list: readonly Invalidation[]): Invalidation[] {
  const byKey = new Map<string, Invalidation>();
  for (const inv of list) {
    const key = `${inv.node.toLowerCase()}|${inv.epoch}|${inv.evidenceHash.toLowerCase()}`;
    const seen = byKey.get(key);
    if (seen === undefined || inv.reason < seen.reason) byKey.set(key, inv);
  }
  return [...byKey.entries()].sort(([a], [b]) => compareKeys(a, b)).map(([, inv]) => inv);
}

function compareKeys(a: string, b: string): number {
  const [nodeA, epochA, hashA] = a.split("|") as [string, string, string];
  const [nodeB, epochB, hashB] = b.split("|") as [string, string, string];
  if (nodeA !== nodeB) return nodeA < nodeB ? -1 : 1;
  if (epochA !== epochB) return Number(epochA) - Number(epochB);
  return hashA < hashB ? -1 : hashA > hashB ? 1 : 0;
}
