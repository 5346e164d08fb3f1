/**
 * `GET /v1/epochs/:n/receipts?after=&limit=`: an epoch's receipts in insertion order, keyset-
 * paginated, for the oracles that pay nodes. Amounts are decimal strings (JSON has no uint256).
 * When a token is configured, only callers presenting it are served.
 */
import { timingSafeEqual } from "node:crypto";
import type { Hono } from "hono";
import { serializeEpochJson } from "../../../sdk/src/epochData.ts";
import { MAX_PAGE, type ReceiptStore } from "../store/index.ts";
import { ApiError, invalidRequest } from "./errors.ts";

export const DEFAULT_RECEIPTS_PAGE = 500;

export function addEpochRoutes(app: Hono, store: Pick<ReceiptStore, "receiptsOfEpoch">, token: string | undefined): void {
  app.get("/v1/epochs/:epoch/receipts", async (c) => {
    if (token !== undefined && !bearerMatches(c.req.header("authorization"), token)) {
      throw new ApiError(401, "authentication_error", "invalid_token", "this endpoint needs the gateway's receipts token");
    }
    const epoch = Number(c.req.param("epoch"));
    if (!/^\d{1,10}$/.test(c.req.param("epoch")) || !Number.isSafeInteger(epoch)) throw invalidRequest("the epoch must be a non-negative integer", "epoch");
    const limitParam = c.req.query("limit");
    const limit = limitParam === undefined ? DEFAULT_RECEIPTS_PAGE : Number(limitParam);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) throw invalidRequest(`limit must be an integer from 1 to ${MAX_PAGE}`, "limit");
    const after = c.req.query("after");
    if (after !== undefined && !/^\d{1,19}$/.test(after)) throw invalidRequest("after must be the next cursor of a previous page", "after");
    const page = await store.receiptsOfEpoch(epoch, { limit, ...(after === undefined ? {} : { after }) });
    const body = { object: "list", epoch, data: page.items, next: page.next };
    return c.body(serializeEpochJson(body), 200, { "content-type": "application/json" });
  });
}

function bearerMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(/^Bearer\s+(\S+)\s*$/i.exec(header ?? "")?.[1] ?? "");
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
