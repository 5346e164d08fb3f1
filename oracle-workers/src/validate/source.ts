/**
 * Where sampled pairs come from: the gateways' `GET /v1/samples?after=&limit=` (receipts token as
 * bearer). The cursor is kept in the data folder (cursor.ts).
 */
import { parseEpochSamplesPage, type EpochSamplesPage } from "../../../sdk/src/epochData.ts";
import { getWithRetries, RetriesExhausted } from "../sources/http.ts";
import type { SampleSource } from "./service.ts";

export type GatewayEndpoint = { url: string; token?: string | undefined };

/** The gateway could not be reached or answered with something else than a page. */
export class SampleSourceError extends Error {
  override name = "SampleSourceError";
}

/** One page of samples after `after` (all from the start when undefined). */
export async function fetchSamples(gateway: GatewayEndpoint, after: string | undefined, limit: number, signal?: AbortSignal): Promise<EpochSamplesPage> {
  return parseEpochSamplesPage(await fetchPage(gateway, "samples", after, limit, signal));
}

/**
 * One page of users' flags (`GET /v1/flags`) as a samples page: the flagged responses with their
 * pairs (sampled, or kept by the gateway's recent-responses buffer), with the flags' cursor. A flag
 * whose pair expired (`pair_expired`, `sample: null`) has nothing to check and is passed over.
 */
export async function fetchFlaggedSamples(gateway: GatewayEndpoint, after: string | undefined, limit: number, signal?: AbortSignal): Promise<EpochSamplesPage> {
  const raw = await fetchPage(gateway, "flags", after, limit, signal);
  if (typeof raw !== "object" || raw === null || !Array.isArray((raw as { data?: unknown }).data)) throw new SampleSourceError(`GET ${gateway.url}/v1/flags: not a page of flags`);
  const { data, next } = raw as { data: unknown[]; next: unknown };
  const samples = data.map((entry, i) => {
    if (typeof entry !== "object" || entry === null || !("sample" in entry)) throw new SampleSourceError(`GET ${gateway.url}/v1/flags: data[${i}] has no sample field`);
    return (entry as { sample: unknown }).sample;
  });
  return parseEpochSamplesPage({ data: samples.filter((s) => s !== null), next });
}

async function fetchPage(gateway: GatewayEndpoint, resource: "samples" | "flags", after: string | undefined, limit: number, signal?: AbortSignal): Promise<unknown> {
  const query = new URLSearchParams({ limit: String(limit) });
  if (after !== undefined) query.set("after", after);
  const url = `${gateway.url.replace(/\/+$/, "")}/v1/${resource}?${query}`;
  let res;
  try {
    res = await getWithRetries(url, {
      timeoutMs: 30_000,
      retries: 3,
      backoffMs: 250,
      maxBackoffMs: 5_000,
      ...(signal === undefined ? {} : { signal }),
      ...(gateway.token === undefined ? {} : { headers: { authorization: `Bearer ${gateway.token}` } }),
    });
  } catch (error) {
    if (error instanceof RetriesExhausted) throw new SampleSourceError(`${url}: ${error.message}`);
    throw error;
  }
  if (res.status !== 200) throw new SampleSourceError(`GET ${url} answered ${res.status}: ${res.body.slice(0, 200)}`);
  try {
    return JSON.parse(res.body) as unknown;
  } catch {
    throw new SampleSourceError(`GET ${url}: the body is not JSON`);
  }
}

type PageFetcher = (gateway: GatewayEndpoint, after: string | undefined, limit: number, signal?: AbortSignal) => Promise<EpochSamplesPage>;

/** A gateway as a SampleSource (its samples, or with fetchFlaggedSamples its flagged samples). */
export function gatewaySource(gateway: GatewayEndpoint, fetchPage: PageFetcher = fetchSamples): SampleSource {
  return { fetch: (after, limit, signal) => fetchPage(gateway, after, limit, signal) };
}

/**
 * Several gateways as one source: the cursor is the JSON of each gateway's own cursor by URL, so
 * one cursor file resumes them all. A page holds one page of each gateway that had new samples.
 */
export function gatewaysSource(gateways: readonly GatewayEndpoint[], fetchPage: PageFetcher = fetchSamples): SampleSource {
  if (gateways.length === 1) return gatewaySource(gateways[0]!, fetchPage);
  return {
    async fetch(after, limit, signal) {
      const cursors = parseCursors(after);
      const pages = await Promise.all(gateways.map((g) => fetchPage(g, cursors[g.url], limit, signal)));
      const next = { ...cursors };
      pages.forEach((page, i) => {
        if (page.next !== null) next[gateways[i]!.url] = page.next;
      });
      return { data: pages.flatMap((p) => p.data), next: JSON.stringify(next) };
    },
  };
}

function parseCursors(after: string | undefined): Record<string, string> {
  if (after === undefined) return {};
  let raw: unknown;
  try {
    raw = JSON.parse(after);
  } catch {
    throw new SampleSourceError(`the saved cursor is not a gateways cursor: ${after.slice(0, 80)}`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw) || !Object.values(raw).every((v) => typeof v === "string")) {
    throw new SampleSourceError(`the saved cursor is not a gateways cursor: ${after.slice(0, 80)}`);
  }
  return raw as Record<string, string>;
}
