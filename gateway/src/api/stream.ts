/**
 * Server-sent events for `stream: true`: one chunk per token, a final chunk with the
 * finish_reason, the usage chunk when asked for, then `data: [DONE]`. The receipt is stored
 * before the final chunk. A node failing mid-stream ends the stream with an error event and
 * only the tokens delivered are charged; so does a client that goes away.
 */
import { DispatchAborted, MidStreamFailure, type DispatchEvent, type StreamedToken } from "../pool/index.ts";
import type { ApiLogger, RequestBilling } from "./billing.ts";
import { toApiError } from "./errors.ts";
import { chunkBody, usageChunkBody, type ResponseHead } from "./shapes.ts";

const SSE_HEADERS = { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", connection: "keep-alive", "x-accel-buffering": "no" };

export function sseResponse(
  head: ResponseHead,
  includeUsage: boolean,
  first: IteratorResult<DispatchEvent, void>,
  events: AsyncGenerator<DispatchEvent, void, undefined>,
  billing: RequestBilling,
  log: ApiLogger,
): Response {
  const frames = sseFrames(head, includeUsage, first, events, billing, log);
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await frames.next();
      if (next.done) controller.close();
      else controller.enqueue(encoder.encode(next.value));
    },
    async cancel() {
      // The client went away: the generator's finally charges what was delivered and stops the
      // job. A generator never started has no finally to run: release and stop here.
      await frames.return(undefined);
      billing.release();
      await events.return(undefined);
    },
  });
  return new Response(body, { status: 200, headers: SSE_HEADERS });
}

const data = (payload: unknown) => `data: ${JSON.stringify(payload)}\n\n`;

async function* sseFrames(
  head: ResponseHead,
  includeUsage: boolean,
  first: IteratorResult<DispatchEvent, void>,
  events: AsyncGenerator<DispatchEvent, void, undefined>,
  billing: RequestBilling,
  log: ApiLogger,
): AsyncGenerator<string, void, undefined> {
  // With include_usage every chunk carries `usage: null` but the last, as OpenAI does.
  const usageField = includeUsage ? null : undefined;
  const delivered: StreamedToken[] = [];
  let node: DispatchEvent["node"] | undefined;
  let textOffset = 0;
  try {
    if (head.endpoint === "chat") yield data(chunkBody(head, { role: true, text: "" }, usageField));
    for (let next = first; !next.done; next = await events.next()) {
      const event = next.value;
      node = event.node;
      if (event.type === "token") {
        delivered.push(event.token);
        billing.tokenSent();
        // A token's text is what it adds to the visible text: empty while a possible stop
        // sequence is held back, so the chunks always join to exactly the final text.
        yield data(chunkBody(head, { text: event.token.text, tokens: [event.token], offset: textOffset }, usageField));
        textOffset += event.token.text.length;
        continue;
      }
      const usage = await billing.complete(event);
      yield data(chunkBody(head, { finish: event.result.finishReason }, usageField));
      if (includeUsage) yield data(usageChunkBody(head, usage));
      yield "data: [DONE]\n\n";
      return;
    }
    throw new Error("the pool's stream ended without a result");
  } catch (error) {
    if (error instanceof DispatchAborted) return; // the client is gone: the finally charges
    const failedNode = error instanceof MidStreamFailure ? error.node : node;
    const count = error instanceof MidStreamFailure ? error.delivered.length : delivered.length;
    if (!billing.isClosed) await billing.partial(failedNode, count).catch((e: unknown) => log("error", "cannot record a partial completion", { requestId: head.id, error: String(e) }));
    const apiError = toApiError(error);
    if (!(error instanceof MidStreamFailure)) log("error", "stream failed", { requestId: head.id, error: String(error) });
    yield data(apiError.body);
  } finally {
    if (!billing.isClosed) await billing.partial(node, delivered.length).catch((e: unknown) => log("error", "cannot record a partial completion", { requestId: head.id, error: String(e) }));
    await events.return(undefined);
  }
}
