/**
 * Users flag responses they doubt; validators check flagged responses first.
 *
 * - `POST /v1/flags` `{ "request_id": "chatcmpl-...", "reason"?: "..." }` with the API key of the
 *   account that paid for the request: 201 `{ object: "flag", request_id, created, sampled,
 *   pair_expired }` (`created` false when it was flagged already). A response that was not sampled
 *   but is still among the recent ones kept in memory (RecentResponses) has its pair stored as a
 *   sample before the flag is recorded, so validators never see the flag without it. `sampled`:
 *   validators have the pair; `pair_expired`: they do not (it left the buffer before the flag).
 *   A request of another account, or unknown, is a 404 (no way to probe other users' request ids).
 * - `GET /v1/flags?after=&limit=` (receipts token when configured): flags in the order they came,
 *   each with its pair and receipt (`sample`, the /v1/samples shape) or null and `pair_expired`
 *   true when none was kept. `next` is the cursor to poll with, as on /v1/samples.
 */
import type { Context, Hono } from "hono";
import type { Address } from "viem";
import type { EpochSample } from "../../../sdk/src/epochData.ts";
import { InvalidRecordError, type ReceiptStore, type RecentResponses, type ValidatorSample } from "../store/index.ts";
import { ApiError, invalidRequest } from "./errors.ts";
import { epochJson, pageQueryOf, requireReceiptsToken } from "./epochs.ts";
import type { ApiKeyVerifier } from "./keys.ts";
import { epochSampleOf } from "./samples.ts";

export const DEFAULT_FLAGS_PAGE = 100;
export const MAX_FLAG_REASON = 2_000;

/** One entry of `GET /v1/flags`. */
export type FlagEntry = { request_id: string; account: Address; reason: string; flagged_at: string; sample: EpochSample | null; pair_expired: boolean };

type FlagQueries = Pick<ReceiptStore, "receipt" | "sampleOf" | "flag" | "flagsSince"> & Partial<Pick<ReceiptStore, "keepSample">>;
const keepsFlags = (store: Partial<FlagQueries>): store is FlagQueries => store.flag !== undefined && store.flagsSince !== undefined && store.receipt !== undefined && store.sampleOf !== undefined;

async function flagBody(c: Context): Promise<{ requestId: string; reason: string }> {
  let raw: unknown;
  try {
    raw = await c.req.json<unknown>();
  } catch {
    throw invalidRequest("the body must be JSON: {\"request_id\": \"...\", \"reason\": \"...\"}");
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw invalidRequest("the body must be a JSON object");
  const { request_id: requestId, reason = "" } = raw as Record<string, unknown>;
  if (typeof requestId !== "string" || requestId.length === 0 || requestId.length > 200) throw invalidRequest("request_id must be the id of one of your responses", "request_id");
  if (typeof reason !== "string" || reason.length > MAX_FLAG_REASON) throw invalidRequest(`reason must be a string of at most ${MAX_FLAG_REASON} characters`, "reason");
  return { requestId, reason: reason.replaceAll("\u0000", "") };
}

/** False when the store refuses the pair (text with U+0000, which PostgreSQL cannot hold): the flag is still recorded. */
async function keepPair(keepSample: ReceiptStore["keepSample"], pair: ValidatorSample, epoch: number): Promise<boolean> {
  try {
    await keepSample(pair, epoch);
    return true;
  } catch (error) {
    if (error instanceof InvalidRecordError) return false;
    throw error;
  }
}

/** Registered always; a store without flags answers 404. */
export function addFlagRoutes(app: Hono, store: Partial<FlagQueries>, keys: Pick<ApiKeyVerifier, "authenticate">, token: string | undefined, recent?: Pick<RecentResponses, "pairOf" | "delete">): void {
  app.post("/v1/flags", async (c) => {
    const { key } = await keys.authenticate(c.req.header("authorization"));
    if (!keepsFlags(store)) throw new ApiError(404, "not_found_error", "no_flags", "this gateway keeps no flags");
    const { requestId, reason } = await flagBody(c);
    const receipt = await store.receipt(requestId);
    if (receipt === null || receipt.account.toLowerCase() !== key.grant.account.toLowerCase()) {
      throw new ApiError(404, "not_found_error", "request_not_found", `no response ${JSON.stringify(requestId)} of this account`, "request_id");
    }
    let sampled = (await store.sampleOf(requestId)) !== null;
    if (!sampled && store.keepSample !== undefined) {
      const pair = recent?.pairOf(requestId);
      if (pair !== undefined) {
        // Stored before the flag: a validator reading the flag finds its pair.
        sampled = await keepPair(store.keepSample.bind(store), pair, receipt.epoch);
        recent?.delete(requestId);
      }
    }
    const { created } = await store.flag(requestId, receipt.account, reason);
    return c.json({ object: "flag", request_id: requestId, created, sampled, pair_expired: !sampled }, 201);
  });

  app.get("/v1/flags", async (c) => {
    requireReceiptsToken(c, token);
    const page = pageQueryOf(c, DEFAULT_FLAGS_PAGE);
    if (!keepsFlags(store)) throw new ApiError(404, "not_found_error", "no_flags", "this gateway keeps no flags");
    const flags = await store.flagsSince(page);
    const data: FlagEntry[] = await Promise.all(
      flags.items.map(async ({ flag, sample }) => {
        const receipt = sample === null ? null : await store.receipt(flag.requestId);
        const pair = sample === null || receipt === null ? null : epochSampleOf(sample, receipt);
        return { request_id: flag.requestId, account: flag.account, reason: flag.reason, flagged_at: flag.createdAt.toISOString(), sample: pair, pair_expired: pair === null };
      }),
    );
    const next = flags.next ?? flags.items.at(-1)?.flag.seq.toString() ?? page.after ?? null;
    return epochJson(c, { object: "list", data, next });
  });
}
