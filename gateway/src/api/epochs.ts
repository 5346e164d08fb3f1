/**
 * What oracles read from the gateway, behind the receipts token when one is configured:
 * - `GET /v1/epochs/:n/receipts?after=&limit=`: an epoch's receipts in insertion order, keyset-
 *   paginated (the oracle pays nodes from them);
 * - `GET /v1/epochs/:n/usage`: each grant's cumulative charge through epoch n with its signed
 *   grant, what `CreditVault.settle` takes (sent by the gateway's key: only grant.gateway may).
 * Amounts are decimal strings (JSON has no uint256); sdk/src/epochData.ts parses both bodies.
 */
import { timingSafeEqual } from "node:crypto";
import type { Context, Hono } from "hono";
import type { Hex } from "viem";
import { serializeEpochJson, type EpochGrantUsage } from "../../../sdk/src/epochData.ts";
import { MAX_PAGE, type GrantUsage, type ReceiptStore } from "../store/index.ts";
import { ApiError, invalidRequest } from "./errors.ts";

export const DEFAULT_RECEIPTS_PAGE = 500;

export type EpochUsageBody = { object: "usage"; epoch: number; data: EpochGrantUsage[]; unsettleable: Hex[] };

/** Usage the vault can settle, apart from grants the gateway holds no signed grant for. */
export function epochUsageBody(epoch: number, usages: readonly GrantUsage[]): EpochUsageBody {
  const data: EpochGrantUsage[] = [];
  const unsettleable: Hex[] = [];
  for (const u of usages) {
    if (u.signedGrant === null) unsettleable.push(u.grantId);
    else data.push({ grantId: u.grantId, grant: u.signedGrant.grant, signature: u.signedGrant.signature, cumulative: u.cumulative });
  }
  return { object: "usage", epoch, data, unsettleable };
}

/** Throws the 401 unless the request carries the receipts token (when one is configured). */
export function requireReceiptsToken(c: Context, token: string | undefined): void {
  if (token !== undefined && !bearerMatches(c.req.header("authorization"), token)) {
    throw new ApiError(401, "authentication_error", "invalid_token", "this endpoint needs the gateway's receipts token");
  }
}

/** `?after=&limit=` of a keyset-paginated route, checked (400 naming the parameter). */
export function pageQueryOf(c: Context, defaultLimit: number): { after?: string; limit: number } {
  const limitParam = c.req.query("limit");
  const limit = limitParam === undefined ? defaultLimit : Number(limitParam);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) throw invalidRequest(`limit must be an integer from 1 to ${MAX_PAGE}`, "limit");
  const after = c.req.query("after");
  if (after !== undefined && !/^\d{1,19}$/.test(after)) throw invalidRequest("after must be the next cursor of a previous page", "after");
  return { limit, ...(after === undefined ? {} : { after }) };
}

/** JSON with bigints as decimal strings (sdk/src/epochData.ts parses it back). */
export const epochJson = (c: Context, body: unknown) => c.body(serializeEpochJson(body), 200, { "content-type": "application/json" });

export function addEpochRoutes(app: Hono, store: Pick<ReceiptStore, "receiptsOfEpoch" | "usageByGrant">, token: string | undefined): void {
  const epochOf = (c: Context): number => {
    requireReceiptsToken(c, token);
    const param = c.req.param("epoch") ?? "";
    const epoch = Number(param);
    if (!/^\d{1,10}$/.test(param) || !Number.isSafeInteger(epoch)) throw invalidRequest("the epoch must be a non-negative integer", "epoch");
    return epoch;
  };
  const json = epochJson;

  app.get("/v1/epochs/:epoch/receipts", async (c) => {
    const epoch = epochOf(c);
    const page = await store.receiptsOfEpoch(epoch, pageQueryOf(c, DEFAULT_RECEIPTS_PAGE));
    return json(c, { object: "list", epoch, data: page.items, next: page.next });
  });

  app.get("/v1/epochs/:epoch/usage", async (c) => {
    const epoch = epochOf(c);
    return json(c, epochUsageBody(epoch, await store.usageByGrant(epoch)));
  });
}

function bearerMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(/^Bearer\s+(\S+)\s*$/i.exec(header ?? "")?.[1] ?? "");
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
