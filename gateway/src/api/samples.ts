/**
 * What validators read from the gateway, behind the receipts token when one is configured:
 * `GET /v1/samples?after=&limit=&epoch=`, the sampled request/response pairs in insertion order,
 * keyset-paginated (`next` is always the cursor to poll with next, null only before any sample),
 * each joined with its completion receipt (the node's signature included), so
 * a validator can re-run the request and hold the signing node to what it returned.
 * sdk/src/epochData.ts parseEpochSamplesPage parses the body.
 */
import type { Hono } from "hono";
import type { EpochReceipt, EpochSample } from "../../../sdk/src/epochData.ts";
import type { ReceiptStore, StoredReceipt, StoredSample } from "../store/index.ts";
import { ApiError, invalidRequest } from "./errors.ts";
import { epochJson, pageQueryOf, requireReceiptsToken } from "./epochs.ts";

export const DEFAULT_SAMPLES_PAGE = 100;

/** The wire form of a receipt: exactly EpochReceipt's fields (no seq, timings or createdAt). */
export function epochReceiptOf(r: StoredReceipt): EpochReceipt {
  return {
    requestId: r.requestId,
    epoch: r.epoch,
    model: r.model,
    nodeAddress: r.nodeAddress,
    nodeAccount: r.nodeAccount,
    grantId: r.grantId,
    account: r.account,
    asset: r.asset,
    inputPricePerMTok: r.inputPricePerMTok,
    outputPricePerMTok: r.outputPricePerMTok,
    promptTokens: r.promptTokens,
    completionTokens: r.completionTokens,
    charged: r.charged,
    status: r.status,
    signedReceipt: r.signedReceipt,
  };
}

/** A stored sample and its receipt as validators get them; JSON has no -Infinity, so such logprobs become null. */
export function epochSampleOf(sample: StoredSample, receipt: StoredReceipt): EpochSample {
  return {
    requestId: sample.requestId,
    epoch: sample.epoch,
    request: sample.request,
    responseText: sample.responseText,
    promptTokenIds: sample.promptTokenIds,
    outputTokenIds: sample.outputTokenIds,
    logprobs: { chosen: sample.logprobs.chosen.map((lp) => (Number.isFinite(lp) ? lp : null)), top: sample.logprobs.top },
    receipt: epochReceiptOf(receipt),
  };
}

type SampleQueries = Pick<ReceiptStore, "samplesSince" | "receipt">;
const keepsSamples = (store: Partial<SampleQueries>): store is SampleQueries => store.samplesSince !== undefined && store.receipt !== undefined;

/** Registered always; a store without the sample queries answers 404. */
export function addSampleRoutes(app: Hono, store: Partial<SampleQueries>, token: string | undefined): void {
  app.get("/v1/samples", async (c) => {
    requireReceiptsToken(c, token);
    const page = pageQueryOf(c, DEFAULT_SAMPLES_PAGE);
    const epochParam = c.req.query("epoch");
    const epoch = epochParam === undefined ? undefined : Number(epochParam);
    if (epochParam !== undefined && (!/^\d{1,10}$/.test(epochParam) || !Number.isSafeInteger(epoch))) throw invalidRequest("the epoch must be a non-negative integer", "epoch");
    if (!keepsSamples(store)) throw new ApiError(404, "not_found_error", "no_samples", "this gateway keeps no validator samples");
    const samples = await store.samplesSince({ ...page, ...(epoch === undefined ? {} : { epoch }) });
    // The receipt is written in the sample's transaction, so a missing one is a broken store (500).
    const data = await Promise.all(
      samples.items.map(async (sample) => {
        const receipt = await store.receipt(sample.requestId);
        if (receipt === null) throw new Error(`sample ${sample.requestId} has no receipt`);
        return epochSampleOf(sample, receipt);
      }),
    );
    // The last (partial) page names its last seq, so a poller resumes after it without re-reading;
    // an empty page gives back the cursor it was asked with (null from the start).
    const next = samples.next ?? samples.items.at(-1)?.seq.toString() ?? page.after ?? null;
    return epochJson(c, { object: "list", data, next });
  });
}
