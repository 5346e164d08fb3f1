/**
 * A worker node that answers instantly, for measuring the gateway rather than a model. It speaks
 * the real node protocol (sdk/src/nodeProtocol.ts: challenge, signed hello, status, token, result)
 * with a real node key, and every result carries a real EIP-712 receipt signed by that key, so
 * the gateway does all of its usual work (receipt verification included). What it skips is
 * inference: the prompt's UTF-8 bytes stand for its tokens and the answer is one fixed token.
 *
 * It also answers POST /v1/completions itself on 127.0.0.1 (the same work: parse, build the
 * result, sign the receipt), the "node called directly" baseline of gateway.bench.ts.
 *
 * Run: npx node gateway/bench/fixtureNode.ts (env below); prints "ready <direct port>" once the
 * gateway has welcomed it. Bench code only: production nodes run node/src/cli.ts.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { secp256k1 } from "@noble/curves/secp256k1";
import { bytesToHex, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import WebSocket from "ws";
import { NODE_PROTOCOL_VERSION, parseGatewayMessage, signNodeAuth, type InferenceRequest, type InferenceResult, type NodeMessage } from "../../sdk/src/nodeProtocol.ts";
import { hashLogprobs, hashTokenIds, type Receipt, type SignedReceipt } from "../../sdk/src/receipt.ts";
import { receiptDigest } from "../../sdk/src/receiptCheck/digest.ts";

const HELP = `fixture worker node for gateway.bench.ts (answers one fixed token, signs real receipts)
env:
  POD_FIXTURE_NODE_KEY     node private key (0x + 64 hex), registered on-chain for the model
  POD_FIXTURE_GATEWAY_WS   the gateway's node endpoint, ws://127.0.0.1:<port>/v1/nodes/ws
  POD_FIXTURE_MODEL        model id to advertise
  POD_FIXTURE_CHAIN_ID     chain id the receipts are signed for
  POD_FIXTURE_CAPACITY     maxConcurrent advertised (default 256)`;

class FixtureConfigError extends Error {
  override name = "FixtureConfigError";
}

function env(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === "") throw new FixtureConfigError(`${name} is required`);
  return value;
}

if (process.argv.includes("--help")) {
  console.log(HELP);
  process.exit(0);
}

const key = env("POD_FIXTURE_NODE_KEY");
if (!/^0x[0-9a-fA-F]{64}$/.test(key)) throw new FixtureConfigError("POD_FIXTURE_NODE_KEY must be 0x + 64 hex digits");
const account = privateKeyToAccount(key as Hex);
const privateKey = Buffer.from(key.slice(2), "hex");
const gatewayUrl = env("POD_FIXTURE_GATEWAY_WS");
const model = env("POD_FIXTURE_MODEL");
const chainId = Number(env("POD_FIXTURE_CHAIN_ID"));
const capacity = Number(process.env.POD_FIXTURE_CAPACITY ?? 256);
if (!Number.isSafeInteger(chainId) || chainId <= 0) throw new FixtureConfigError("POD_FIXTURE_CHAIN_ID must be a positive integer");
if (!Number.isSafeInteger(capacity) || capacity <= 0) throw new FixtureConfigError("POD_FIXTURE_CAPACITY must be a positive integer");

/** The one token every answer is. */
const ANSWER = { tokenId: 65, text: "A", logprob: -0.25 } as const;
const ANSWER_IDS = [ANSWER.tokenId];
const OUTPUT_HASH = hashTokenIds(ANSWER_IDS);
const LOGPROBS_HASH = hashLogprobs([ANSWER.logprob]);
const encoder = new TextEncoder();

/** EIP-712 signature as viem's signTypedData makes it (RFC 6979, low s, v = 27 + parity). */
function signFixtureReceipt(fields: Omit<Receipt, "node">): SignedReceipt {
  const receipt: Receipt = { ...fields, node: account.address };
  const sig = secp256k1.sign(receiptDigest(receipt, chainId), privateKey, { lowS: true });
  const signature = `${bytesToHex(sig.toCompactRawBytes())}${(27 + sig.recovery).toString(16)}` as Hex;
  return { receipt, chainId, signature };
}

type Answer = { result: InferenceResult; receipt: SignedReceipt };

/** The whole "inference": the prompt's bytes as tokens, one fixed token out, a signed receipt. */
function answer(requestId: string, request: InferenceRequest): Answer {
  const text = request.prompt ?? request.messages?.map((m) => m.content).join("\n") ?? "";
  const promptTokenIds = request.prompt_token_ids ?? [...encoder.encode(text)];
  const startedAt = Date.now();
  const timings = { startedAt, firstTokenMs: 0, totalMs: 0 };
  const result: InferenceResult = {
    requestId,
    model,
    text: ANSWER.text,
    finishReason: "length",
    promptTokenIds,
    outputTokenIds: ANSWER_IDS,
    logprobs: [{ ...ANSWER, top: [] }],
    usage: { promptTokens: promptTokenIds.length, completionTokens: 1 },
    seed: request.seed ?? 0,
    timings,
  };
  const receipt = signFixtureReceipt({
    requestId,
    modelId: model,
    promptHash: hashTokenIds(promptTokenIds),
    outputHash: OUTPUT_HASH,
    logprobsHash: LOGPROBS_HASH,
    promptTokens: promptTokenIds.length,
    outputTokens: 1,
    ...timings,
  });
  return { result, receipt };
}

// ------------------------------------------------------------------ the direct HTTP endpoint

let directCount = 0;
const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    if (req.method !== "POST" || req.url !== "/v1/completions") {
      res.writeHead(404).end();
      return;
    }
    let request: InferenceRequest;
    try {
      request = JSON.parse(Buffer.concat(chunks).toString("utf8")) as InferenceRequest;
    } catch {
      res.writeHead(400).end();
      return;
    }
    const id = `local-${++directCount}`;
    const { result, receipt } = answer(id, request);
    const body = JSON.stringify({
      id,
      object: "text_completion",
      created: Math.floor(result.timings.startedAt / 1000),
      model,
      choices: [{ index: 0, text: result.text, logprobs: null, finish_reason: result.finishReason }],
      usage: { prompt_tokens: result.usage.promptTokens, completion_tokens: 1, total_tokens: result.usage.promptTokens + 1 },
      receipt,
    });
    res.writeHead(200, { "content-type": "application/json" }).end(body);
  });
});
server.keepAliveTimeout = 60_000;
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const directPort = (server.address() as AddressInfo).port;

// ------------------------------------------------------------------ the gateway connection

const socket = new WebSocket(gatewayUrl);
const send = (message: NodeMessage) => socket.send(JSON.stringify(message));
const status = () => send({ type: "status", activeJobs: 0, queuedJobs: 0, capacity, tokensPerSecond: 1_000, draining: false });

socket.on("message", (data) => {
  const message = parseGatewayMessage(String(data));
  switch (message.type) {
    case "challenge":
      void signNodeAuth(account, message, message.chainId).then((auth) =>
        send({
          type: "hello",
          protocol: NODE_PROTOCOL_VERSION,
          node: account.address,
          nodeVersion: "bench-fixture",
          provider: "fixture",
          models: [{ id: model, contextLength: 2048, manifestSha256: "0".repeat(64) }],
          capacity: { maxConcurrent: capacity },
          speed: { tokensPerSecond: 1_000 },
          auth,
        }),
      );
      return;
    case "welcome":
      status();
      console.log(`ready ${directPort}`);
      return;
    case "job": {
      const { result, receipt } = answer(message.jobId, message.request as InferenceRequest);
      send({ type: "token", jobId: message.jobId, index: 0, ...result.logprobs[0]! });
      send({ type: "result", jobId: message.jobId, result, receipt });
      return;
    }
    case "cancel":
    case "drain":
      return;
    case "error":
      console.error(`gateway refused the fixture node: ${message.code} ${message.message}`);
      process.exit(1);
  }
});
socket.on("close", () => {
  server.close();
  server.closeAllConnections();
});
process.on("SIGTERM", () => {
  send({ type: "bye" });
  socket.close(1000, "bye");
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
