/**
 * Node frames, validated in full. sdk's parseNodeMessage checks the type and the routing fields;
 * the gateway also relies on the rest (token text, result fields, status figures), so every
 * field it reads is checked here before a typed value leaves this module.
 */
import { isHex } from "viem";
import { ProtocolError, parseNodeMessage, type InferenceResult, type NodeMessage, type TokenAlternativeWire } from "../../../sdk/src/nodeProtocol.ts";
import { parseSignedReceipt } from "../../../sdk/src/receipt.ts";

type Obj = Record<string, unknown>;

const fail = (what: string): never => {
  throw new ProtocolError(what);
};
const obj = (v: unknown, what: string): Obj => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Obj) : fail(`${what} must be an object`));
const arr = (v: unknown, what: string): unknown[] => (Array.isArray(v) ? v : fail(`${what} must be an array`));
const str = (v: unknown, what: string): string => (typeof v === "string" ? v : fail(`${what} must be a string`));
const finite = (v: unknown, what: string): number => (typeof v === "number" && Number.isFinite(v) ? v : fail(`${what} must be a number`));
const int = (v: unknown, what: string, min = 0): number => (Number.isSafeInteger(v) && (v as number) >= min ? (v as number) : fail(`${what} must be an integer >= ${min}`));
const bool = (v: unknown, what: string): boolean => (typeof v === "boolean" ? v : fail(`${what} must be a boolean`));
/** Log-probabilities are finite and <= 0; -Infinity is not JSON, so a finite check suffices. */
const logprob = (v: unknown, what: string): number => finite(v, what);

function alternative(v: unknown, what: string): TokenAlternativeWire {
  const o = obj(v, what);
  return { tokenId: int(o.tokenId, `${what}.tokenId`), text: str(o.text, `${what}.text`), logprob: logprob(o.logprob, `${what}.logprob`) };
}

export type HelloFrame = Extract<NodeMessage, { type: "hello" }>;
export type StatusFrame = Extract<NodeMessage, { type: "status" }>;
export type TokenFrame = Extract<NodeMessage, { type: "token" }>;
export type ResultFrame = Extract<NodeMessage, { type: "result" }>;

function hello(o: Obj): HelloFrame {
  const models = arr(o.models, "hello.models").map((m, i) => {
    const model = obj(m, `hello.models[${i}]`);
    const id = str(model.id, `hello.models[${i}].id`);
    if (id.length === 0) fail(`hello.models[${i}].id must not be empty`);
    return { id, contextLength: int(model.contextLength, `hello.models[${i}].contextLength`, 1), manifestSha256: str(model.manifestSha256, `hello.models[${i}].manifestSha256`) };
  });
  const capacity = obj(o.capacity, "hello.capacity");
  const speed = obj(o.speed, "hello.speed");
  const auth = obj(o.auth, "hello.auth");
  const signature = str(auth.signature, "hello.auth.signature");
  if (!isHex(signature)) fail("hello.auth.signature must be hex");
  return {
    type: "hello",
    protocol: int(o.protocol, "hello.protocol"),
    node: o.node as HelloFrame["node"], // checked by parseNodeMessage
    nodeVersion: str(o.nodeVersion, "hello.nodeVersion"),
    provider: str(o.provider, "hello.provider"),
    models,
    capacity: { maxConcurrent: int(capacity.maxConcurrent, "hello.capacity.maxConcurrent", 1) },
    speed: { tokensPerSecond: Math.max(0, finite(speed.tokensPerSecond, "hello.speed.tokensPerSecond")) },
    auth: { issuedAt: int(auth.issuedAt, "hello.auth.issuedAt"), signature: signature as `0x${string}` },
  };
}

function result(v: unknown): InferenceResult {
  const o = obj(v, "result.result");
  const finishReason = o.finishReason;
  if (finishReason !== "stop" && finishReason !== "length") fail("result.finishReason must be stop or length");
  const ids = (x: unknown, what: string) => arr(x, what).map((id, i) => int(id, `${what}[${i}]`));
  const usage = obj(o.usage, "result.usage");
  const timings = obj(o.timings, "result.timings");
  return {
    requestId: str(o.requestId, "result.requestId"),
    model: str(o.model, "result.model"),
    text: str(o.text, "result.text"),
    finishReason: finishReason as InferenceResult["finishReason"],
    promptTokenIds: ids(o.promptTokenIds, "result.promptTokenIds"),
    outputTokenIds: ids(o.outputTokenIds, "result.outputTokenIds"),
    logprobs: arr(o.logprobs, "result.logprobs").map((lp, i) => ({
      ...alternative(lp, `result.logprobs[${i}]`),
      top: arr(obj(lp, `result.logprobs[${i}]`).top, `result.logprobs[${i}].top`).map((t, j) => alternative(t, `result.logprobs[${i}].top[${j}]`)),
    })),
    usage: { promptTokens: int(usage.promptTokens, "result.usage.promptTokens"), completionTokens: int(usage.completionTokens, "result.usage.completionTokens") },
    seed: int(o.seed, "result.seed"),
    timings: {
      startedAt: int(timings.startedAt, "result.timings.startedAt"),
      firstTokenMs: int(timings.firstTokenMs, "result.timings.firstTokenMs"),
      totalMs: int(timings.totalMs, "result.timings.totalMs"),
    },
  };
}

/** Parses and fully validates a node's frame; throws ProtocolError on anything malformed. */
export function readNodeFrame(data: string): NodeMessage {
  const message = parseNodeMessage(data);
  const o = message as unknown as Obj;
  switch (message.type) {
    case "hello":
      return hello(o);
    case "status":
      return {
        type: "status",
        activeJobs: int(o.activeJobs, "status.activeJobs"),
        queuedJobs: int(o.queuedJobs, "status.queuedJobs"),
        capacity: int(o.capacity, "status.capacity", 1),
        tokensPerSecond: Math.max(0, finite(o.tokensPerSecond, "status.tokensPerSecond")),
        draining: bool(o.draining, "status.draining"),
      };
    case "token":
      return {
        type: "token",
        jobId: message.jobId,
        ...alternative(o, "token"),
        index: int(o.index, "token.index"),
        top: arr(o.top, "token.top").map((t, i) => alternative(t, `token.top[${i}]`)),
      };
    case "result": {
      let receipt;
      try {
        receipt = parseSignedReceipt(o.receipt);
      } catch (error) {
        throw new ProtocolError(`result.receipt: ${error instanceof Error ? error.message : String(error)}`);
      }
      return { type: "result", jobId: message.jobId, result: result(o.result), receipt };
    }
    case "job_error":
      return { type: "job_error", jobId: message.jobId, code: str(o.code, "job_error.code"), message: typeof o.message === "string" ? o.message : "" };
    case "leaving":
      return { type: "leaving", reason: typeof o.reason === "string" ? o.reason : "", inFlight: Number.isSafeInteger(o.inFlight) ? (o.inFlight as number) : 0 };
    case "bye":
      return { type: "bye" };
  }
}
