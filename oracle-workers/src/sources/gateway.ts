/**
 * Reads an epoch's receipts and credit usage from gateways (`GET /v1/epochs/:n/receipts`,
 * `GET /v1/epochs/:n/usage`). All or nothing: transient failures (refused, timed out, 5xx, 429)
 * are retried with backoff and then raise GatewayUnavailable, so the pipeline delays the epoch
 * instead of paying on partial data; a refusal (4xx) or malformed data raises GatewayDataError
 * naming the gateway and the field.
 *
 * @example
 * const receipts = await fetchAllReceipts([{ url: "http://gw:8080", token }], 12, { retries: 5 });
 */
import {
  EpochDataError,
  parseEpochReceiptsPage,
  parseEpochUsage,
  type EpochReceipt,
  type EpochReceiptsPage,
  type EpochUsage,
} from "../../../sdk/src/epochData.ts";
import { getWithRetries, RetriesExhausted, type TextResponse } from "./http.ts";

/** A gateway's base URL (with or without `/v1`) and the receipts token it may demand. */
export type GatewaySource = { url: string; token?: string };

export type GatewayFetchOptions = {
  /** Receipts per page (the gateway allows 1 to its MAX_PAGE; default 500). */
  pageSize?: number;
  /** Limit of one request, body included (default 15 s). */
  timeoutMs?: number;
  /** Extra attempts per request after a transient failure (default 4). */
  retries?: number;
  /** First wait between attempts, doubled each time up to maxBackoffMs (defaults 250 ms, 5 s). */
  backoffMs?: number;
  maxBackoffMs?: number;
  signal?: AbortSignal;
  onProgress?: (progress: GatewayProgress) => void;
};

export type GatewayProgress = { gateway: string; epoch: number; pages: number; receipts: number; done: boolean };

/** The gateway gave no answer after every retry; the epoch must wait. */
export class GatewayUnavailable extends Error {
  override name = "GatewayUnavailable";
  readonly gateway: string;
  readonly epoch: number;
  readonly attempts: number;
  readonly lastFailure: string;
  constructor(gateway: string, epoch: number, attempts: number, lastFailure: string) {
    super(`gateway ${gateway} unavailable for epoch ${epoch} after ${attempts} attempt(s): ${lastFailure}`);
    this.gateway = gateway;
    this.epoch = epoch;
    this.attempts = attempts;
    this.lastFailure = lastFailure;
  }
}

/** The gateway refused the request or answered malformed data; `field` names where. */
export class GatewayDataError extends Error {
  override name = "GatewayDataError";
  readonly gateway: string;
  readonly field: string;
  readonly detail: string;
  /** The HTTP status when the gateway refused the request. */
  readonly status: number | undefined;
  constructor(gateway: string, field: string, detail: string, status?: number) {
    super(`gateway ${gateway}: ${field}: ${detail}`);
    this.gateway = gateway;
    this.field = field;
    this.detail = detail;
    this.status = status;
  }
}

const DEFAULTS = { pageSize: 500, timeoutMs: 15_000, retries: 4, backoffMs: 250, maxBackoffMs: 5_000 };

/** Every receipt of `epoch` on one gateway, following `next` cursors to the end. */
export async function fetchEpochReceipts(gateway: GatewaySource, epoch: number, options: GatewayFetchOptions = {}): Promise<EpochReceipt[]> {
  checkEpoch(epoch);
  const pageSize = options.pageSize ?? DEFAULTS.pageSize;
  if (!Number.isInteger(pageSize) || pageSize < 1) throw new RangeError(`pageSize must be a positive integer, got ${pageSize}`);
  const receipts: EpochReceipt[] = [];
  let after: string | null = null;
  let pages = 0;
  for (;;) {
    const query: string = `limit=${pageSize}${after === null ? "" : `&after=${after}`}`;
    const raw = await getJson(gateway, epoch, `epochs/${epoch}/receipts?${query}`, options);
    const where = after === null ? "first page" : `page after ${after}`;
    const page: EpochReceiptsPage = parsed(gateway, where, () => parseEpochReceiptsPage(raw));
    if (page.epoch !== epoch) throw new GatewayDataError(gateway.url, "epoch", `${where} is of epoch ${page.epoch}, not ${epoch}`);
    // A cursor that does not move, or moves past nothing, would loop forever.
    if (page.next !== null && (page.next === after || page.data.length === 0)) throw new GatewayDataError(gateway.url, "next", `${where}: cursor ${page.next} does not advance`);
    receipts.push(...page.data);
    pages += 1;
    after = page.next;
    options.onProgress?.({ gateway: gateway.url, epoch, pages, receipts: receipts.length, done: after === null });
    if (after === null) return receipts;
  }
}

/** Each grant's cumulative usage through `epoch` on one gateway (what settle needs). */
export async function fetchEpochUsage(gateway: GatewaySource, epoch: number, options: GatewayFetchOptions = {}): Promise<EpochUsage> {
  checkEpoch(epoch);
  const raw = await getJson(gateway, epoch, `epochs/${epoch}/usage`, options);
  const usage = parsed(gateway, "usage", () => parseEpochUsage(raw));
  if (usage.epoch !== epoch) throw new GatewayDataError(gateway.url, "epoch", `usage is of epoch ${usage.epoch}, not ${epoch}`);
  return usage;
}

/**
 * Every gateway's receipts of `epoch`, concatenated in the order of `gateways`. All must answer:
 * the first failure aborts the other fetches and is thrown.
 */
export async function fetchAllReceipts(gateways: readonly GatewaySource[], epoch: number, options: GatewayFetchOptions = {}): Promise<EpochReceipt[]> {
  const lists = await allOrNothing(gateways, options, (gateway, opts) => fetchEpochReceipts(gateway, epoch, opts));
  return lists.flat();
}

/** Every gateway's usage of `epoch`, in the order of `gateways`; all must answer. */
export async function fetchAllUsage(gateways: readonly GatewaySource[], epoch: number, options: GatewayFetchOptions = {}): Promise<{ gateway: string; usage: EpochUsage }[]> {
  const usages = await allOrNothing(gateways, options, (gateway, opts) => fetchEpochUsage(gateway, epoch, opts));
  return usages.map((usage, i) => ({ gateway: gateways[i]!.url, usage }));
}

async function allOrNothing<T>(gateways: readonly GatewaySource[], options: GatewayFetchOptions, fetchOne: (gateway: GatewaySource, options: GatewayFetchOptions) => Promise<T>): Promise<T[]> {
  const stop = new AbortController();
  const signal = options.signal === undefined ? stop.signal : AbortSignal.any([options.signal, stop.signal]);
  try {
    return await Promise.all(gateways.map((gateway) => fetchOne(gateway, { ...options, signal })));
  } finally {
    // On a failure, the fetches still running stop (their rejections are ignored by Promise.all).
    stop.abort(new Error("another gateway failed"));
  }
}

/** One GET with retries on transient failures; returns the parsed JSON body of a 200. */
async function getJson(gateway: GatewaySource, epoch: number, path: string, options: GatewayFetchOptions): Promise<unknown> {
  const url = `${apiBase(gateway.url)}/${path}`;
  let res: TextResponse;
  try {
    res = await getWithRetries(url, {
      timeoutMs: options.timeoutMs ?? DEFAULTS.timeoutMs,
      retries: options.retries ?? DEFAULTS.retries,
      backoffMs: options.backoffMs ?? DEFAULTS.backoffMs,
      maxBackoffMs: options.maxBackoffMs ?? DEFAULTS.maxBackoffMs,
      headers: gateway.token === undefined ? {} : { authorization: `Bearer ${gateway.token}` },
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
  } catch (error) {
    if (error instanceof RetriesExhausted) throw new GatewayUnavailable(gateway.url, epoch, error.attempts, error.lastFailure);
    throw error;
  }
  if (res.status !== 200) throw refusal(gateway, url, res);
  try {
    return JSON.parse(res.body) as unknown;
  } catch {
    throw new GatewayDataError(gateway.url, "body", `GET ${url} answered 200 with a body that is not JSON`, 200);
  }
}

/** A 4xx (or any other non-200 that is not transient): the gateway's `error.param` names the field. */
function refusal(gateway: GatewaySource, url: string, res: TextResponse): GatewayDataError {
  let message = res.body.slice(0, 200);
  let param: string | null = null;
  try {
    const error = (JSON.parse(res.body) as { error?: { message?: unknown; param?: unknown } }).error;
    if (typeof error?.message === "string") message = error.message;
    if (typeof error?.param === "string") param = error.param;
  } catch {
    // Not the gateway's error shape: the raw text names the problem well enough.
  }
  const field = res.status === 401 || res.status === 403 ? "token" : (param ?? "request");
  return new GatewayDataError(gateway.url, field, `GET ${url} answered ${res.status}: ${message}`, res.status);
}

function parsed<T>(gateway: GatewaySource, where: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof EpochDataError) throw new GatewayDataError(gateway.url, error.field, `${where}: ${error.message}`);
    throw error;
  }
}

function checkEpoch(epoch: number): void {
  if (!Number.isSafeInteger(epoch) || epoch < 0) throw new RangeError(`epoch must be a non-negative integer, got ${epoch}`);
}

/** The gateway's `/v1` base, whether or not the configured URL names it. */
function apiBase(url: string): string {
  const trimmed = url.replace(/\/+$/, "");
  return trimmed.endsWith("/v1") ? trimmed : `${trimmed}/v1`;
}
