/**
 * One oracle's HTTP face, read-only:
 * - `GET /epochs/:n/report`: the report's exact bytes (the URI the indexer fetches; its keccak256
 *   is the reportHash on-chain), 404 until computed;
 * - `GET /epochs/:n/signature`: this oracle's signed epoch root (peers collect it), 404 until signed;
 * - `GET /status`: how far the pipeline got; `GET /metrics`: Prometheus.
 * The pipeline implements OracleServerDeps from its data folder; this file only serves.
 *
 * @example
 * const { url, close } = await serveOracle(createOracleServer(deps), { host: "127.0.0.1", port: 8700 });
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { Hono, type Context } from "hono";
import type { Registry } from "prom-client";
import { serializeSignedEpochRoot, type SignedEpochRoot } from "./signedRoot.ts";

/** Last epoch to reach each stage (null: none yet); a pipeline may add its own fields. */
export type OracleStatus = {
  lastComputed: number | null;
  lastProposed: number | null;
  lastSettled: number | null;
  [key: string]: unknown;
};

export interface OracleServerDeps {
  /** The report's canonical JSON, byte for byte, or null when not computed yet. */
  reportOf(epoch: number): Promise<string | null>;
  signatureOf(epoch: number): Promise<SignedEpochRoot | null>;
  status(): OracleStatus | Promise<OracleStatus>;
  /** The oracle's own prom-client registry (OracleMetrics.registry). */
  registry: Registry;
}

const JSON_TYPE = "application/json";

export function createOracleServer(deps: OracleServerDeps): Hono {
  const app = new Hono();

  app.get("/epochs/:epoch/report", async (c) => {
    const epoch = epochParam(c.req.param("epoch"));
    if (epoch === null) return badEpoch(c);
    const report = await deps.reportOf(epoch);
    if (report === null) return notFound(c, `epoch ${epoch} has no report yet`);
    return c.body(report, 200, { "content-type": JSON_TYPE });
  });

  app.get("/epochs/:epoch/signature", async (c) => {
    const epoch = epochParam(c.req.param("epoch"));
    if (epoch === null) return badEpoch(c);
    const signed = await deps.signatureOf(epoch);
    if (signed === null) return notFound(c, `epoch ${epoch} is not signed yet`);
    return c.body(serializeSignedEpochRoot(signed), 200, { "content-type": JSON_TYPE });
  });

  app.get("/status", async (c) => {
    const status = await deps.status();
    return c.body(JSON.stringify(status, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value)), 200, { "content-type": JSON_TYPE });
  });

  app.get("/metrics", async (c) => c.body(await deps.registry.metrics(), 200, { "content-type": deps.registry.contentType }));

  app.notFound((c) => notFound(c, "no such route"));
  app.onError((error, c) => {
    // A failing data folder must not look like "not computed yet" (404) to peers or the indexer.
    console.error(`oracle server: ${c.req.method} ${c.req.path}:`, error);
    return c.json({ error: { code: "internal_error", message: "the oracle failed to answer" } }, 500);
  });
  return app;
}

export type ServedOracle = { server: Server; url: string; close(): Promise<void> };

/** Listens on host:port (127.0.0.1 and a free port by default) until close(). */
export async function serveOracle(app: Hono, options: { host?: string; port?: number } = {}): Promise<ServedOracle> {
  const host = options.host ?? "127.0.0.1";
  const server = await new Promise<Server>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: host, port: options.port ?? 0 }, () => resolve(s as Server)) as Server;
    s.once("error", reject);
  });
  const { port } = server.address() as AddressInfo;
  // Idempotent: a second close waits for the first instead of failing "not running".
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= new Promise<void>((resolve, reject) => {
      server.close((error) => (error ? reject(error) : resolve()));
      server.closeAllConnections();
    }));
  return { server, url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`, close };
}

/** A non-negative safe integer as the path gives it (digits only), else null. */
function epochParam(text: string): number | null {
  if (!/^\d{1,15}$/.test(text)) return null;
  const epoch = Number(text);
  return Number.isSafeInteger(epoch) ? epoch : null;
}

const badEpoch = (c: Context) => c.json({ error: { code: "invalid_epoch", message: "the epoch must be a non-negative integer" } }, 400);
const notFound = (c: Context, message: string) => c.json({ error: { code: "not_found", message } }, 404);
