/**
 * The operator's local OpenAI-compatible endpoint (hono): /v1/models, /v1/completions,
 * /v1/chat/completions (SSE streaming with `data: [DONE]`), /health and Prometheus /metrics.
 * Bound to 127.0.0.1 by the CLI; tests call `app.request()` with no server.
 */
import { Hono, type Context } from "hono";
import { streamSSE } from "hono/streaming";
import { bodyLimit } from "hono/body-limit";
import { InvalidRequestError, NodeError } from "../errors.ts";
import { log } from "../log.ts";
import type { NodeService, PreparedJob, StreamedToken } from "../service.ts";
import { Channel } from "./channel.ts";
import { type Endpoint, errorBody, finalResponse, finishChunk, streamChunk, usageChunk } from "./openai.ts";
import { renderMetrics, type RequestCounters } from "./metrics.ts";

const LOCAL_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);
const MAX_BODY_BYTES = 4 * 1024 * 1024;

export function createLocalApp(service: NodeService): Hono {
  const app = new Hono();
  const counters: RequestCounters = new Map();
  const count = (model: string, status: number): void => {
    const key = `${model}|${status}`;
    counters.set(key, (counters.get(key) ?? 0) + 1);
  };

  app.onError((error, c) => {
    const nodeError = error instanceof NodeError ? error : new NodeError("internal_error", "internal error", 500, { cause: error });
    if (!(error instanceof NodeError)) log("error", "unhandled error in local endpoint", { error: String(error) });
    return c.json(errorBody(nodeError), nodeError.status as 400);
  });
  app.notFound((c) => c.json({ error: { message: `no route ${c.req.method} ${c.req.path}`, type: "invalid_request_error", param: null, code: "not_found" } }, 404));

  // Only this machine's own clients: a web page in the operator's browser must not be able to
  // drive the node (a "simple" text/plain POST) or read its answers through DNS rebinding.
  app.use("*", async (c, next) => {
    const host = c.req.header("host");
    if (host !== undefined && !LOCAL_HOSTS.has(host.replace(/:\d+$/, "").toLowerCase())) {
      return c.json({ error: { message: `host ${host} is not served: this endpoint is for 127.0.0.1 only`, type: "invalid_request_error", param: null, code: "forbidden_host" } }, 403);
    }
    if (c.req.method === "POST" && !(c.req.header("content-type") ?? "").toLowerCase().startsWith("application/json")) {
      throw new InvalidRequestError("content-type must be application/json");
    }
    await next();
  });
  app.use("/v1/*", bodyLimit({ maxSize: MAX_BODY_BYTES, onError: () => { throw new InvalidRequestError(`request body over ${MAX_BODY_BYTES} bytes`); } }));

  app.get("/health", (c) => c.json({ status: service.isDraining ? "draining" : "ok", node: service.account.address, models: service.models.map((m) => m.manifest.modelId) }, service.isDraining ? 503 : 200));

  app.get("/metrics", (c) => c.text(renderMetrics(service, counters), 200, { "content-type": "text/plain; version=0.0.4" }));

  app.get("/v1/models", (c) =>
    c.json({
      object: "list",
      data: service.models.map((m) => ({ id: m.manifest.modelId, object: "model", created: Math.floor(service.startedAt / 1000), owned_by: "pod-node", context_length: m.manifest.contextLength, manifest_sha256: m.manifestSha256 })),
    }),
  );

  const handle = (endpoint: Endpoint) => async (c: Context) => {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      throw new InvalidRequestError("request body must be JSON");
    }
    const o = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
    if (endpoint === "chat" && o.prompt !== undefined) throw new InvalidRequestError("use messages on /v1/chat/completions", "prompt");
    if (endpoint === "completion" && o.messages !== undefined) throw new InvalidRequestError("use prompt on /v1/completions", "messages");
    if (o.n !== undefined && o.n !== 1) throw new InvalidRequestError("n must be 1", "n");
    const withLogprobs = o.logprobs === true || (typeof o.logprobs === "number" && o.logprobs >= 0);
    const model = typeof o.model === "string" ? o.model : "";
    const created = Math.floor(Date.now() / 1000);

    if (o.stream !== true) {
      try {
        const { result, receipt } = await service.run(body, { signal: c.req.raw.signal });
        count(model, 200);
        return c.json(finalResponse(endpoint, result, receipt, withLogprobs, created));
      } catch (error) {
        count(model, error instanceof NodeError ? error.status : 500);
        throw error;
      }
    }

    const includeUsage = typeof o.stream_options === "object" && o.stream_options !== null && (o.stream_options as Record<string, unknown>).include_usage === true;
    // Refusals (bad fields, unknown model) happen here, before the stream opens: plain JSON errors.
    let job: PreparedJob;
    try {
      job = service.prepare(body);
    } catch (error) {
      count(model, error instanceof NodeError ? error.status : 500);
      throw error;
    }
    return streamSSE(c, async (stream) => {
      const abort = new AbortController();
      stream.onAbort(() => abort.abort());
      const tokens = new Channel<StreamedToken>();
      const running = service.execute(job, { signal: abort.signal, onToken: (token) => tokens.push(token) });
      running.then(() => tokens.close(), () => tokens.close());
      let first = true;
      for await (const token of tokens) {
        if (token.text === "" && !withLogprobs) continue;
        await stream.writeSSE({ data: JSON.stringify(streamChunk(endpoint, job.requestId, model, created, token.text, withLogprobs ? token : undefined, first)) });
        first = false;
      }
      try {
        const { result, receipt } = await running;
        await stream.writeSSE({ data: JSON.stringify(finishChunk(endpoint, result, receipt, created)) });
        if (includeUsage) await stream.writeSSE({ data: JSON.stringify(usageChunk(endpoint, result, created)) });
        count(model, 200);
      } catch (error) {
        const nodeError = error instanceof NodeError ? error : new NodeError("internal_error", String(error), 500);
        count(model, nodeError.status);
        await stream.writeSSE({ data: JSON.stringify(errorBody(nodeError)) });
      }
      await stream.writeSSE({ data: "[DONE]" });
    });
  };

  app.post("/v1/chat/completions", handle("chat"));
  app.post("/v1/completions", handle("completion"));
  return app;
}
