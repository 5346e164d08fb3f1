/**
 * The worker-node <-> gateway protocol (WebSocket, JSON text frames). Nodes connect OUT to the
 * gateway, so a node behind NAT can serve. Protocol version 1:
 *
 *   gateway -> node  challenge {nonce, gatewayId}            on connect
 *   node -> gateway  hello {node, models, capacity, speed, auth}   auth signs NodeAuth(EIP-712)
 *   gateway -> node  welcome {sessionId}  | error {code, message} then close
 *   node -> gateway  status {activeJobs, queuedJobs, capacity, tokensPerSecond, draining}
 *                    every statusIntervalMs and whenever it changes materially
 *   gateway -> node  job {jobId, request}
 *   node -> gateway  token {jobId, index, tokenId, text, logprob, top}   zero or more, in order
 *   node -> gateway  result {jobId, result, receipt}  | job_error {jobId, code, message}
 *   gateway -> node  cancel {jobId}                  node answers job_error code "cancelled"
 *   gateway -> node  drain {reason}                  node stops taking jobs, finishes in flight
 *   node -> gateway  leaving {reason, inFlight}      node takes no new job from here on
 *   node -> gateway  bye {}                          then closes with code 1000
 *
 * A job sent to a draining node is answered with job_error code "node_draining" (retry elsewhere).
 */
import { isAddress, isHex, recoverTypedDataAddress, type Address, type Hex, type LocalAccount } from "viem";
import type { SignedReceipt } from "./receipt.ts";

export const NODE_PROTOCOL_VERSION = 1;

export const NODE_AUTH_TYPES = {
  NodeAuth: [
    { name: "gatewayId", type: "string" },
    { name: "nonce", type: "bytes32" },
    { name: "node", type: "address" },
    { name: "issuedAt", type: "uint64" },
  ],
} as const;

export function nodeAuthDomain(chainId: number) {
  return { name: "POD Network Node Auth", version: "1", chainId } as const;
}

export type NodeAuth = { gatewayId: string; nonce: Hex; node: Address; issuedAt: number };

export async function signNodeAuth(account: LocalAccount, challenge: { gatewayId: string; nonce: Hex }, chainId: number, issuedAt = Date.now()): Promise<{ issuedAt: number; signature: Hex }> {
  const message = { gatewayId: challenge.gatewayId, nonce: challenge.nonce, node: account.address, issuedAt: BigInt(issuedAt) };
  const signature = await account.signTypedData({ domain: nodeAuthDomain(chainId), types: NODE_AUTH_TYPES, primaryType: "NodeAuth", message });
  return { issuedAt, signature };
}

/** For the gateway: the address that signed this hello's auth (compare with hello.node). */
export async function recoverNodeAuthSigner(auth: NodeAuth, signature: Hex, chainId: number): Promise<Address> {
  return recoverTypedDataAddress({
    domain: nodeAuthDomain(chainId),
    types: NODE_AUTH_TYPES,
    primaryType: "NodeAuth",
    message: { ...auth, issuedAt: BigInt(auth.issuedAt) },
    signature,
  });
}

/** The work a gateway asks for: OpenAI-style fields (snake_case). Exactly one of prompt / messages / prompt_token_ids. */
export type InferenceRequest = {
  model: string;
  prompt?: string;
  messages?: { role: "system" | "user" | "assistant"; content: string }[];
  prompt_token_ids?: number[];
  max_tokens?: number;
  temperature?: number;
  top_p?: number;
  top_k?: number;
  seed?: number;
  stop?: string | string[];
  top_logprobs?: number;
};

export type TokenAlternativeWire = { tokenId: number; text: string; logprob: number };
export type TokenLogprobWire = TokenAlternativeWire & { top: TokenAlternativeWire[] };

export type InferenceResult = {
  requestId: string;
  model: string;
  text: string;
  finishReason: "stop" | "length";
  promptTokenIds: number[];
  outputTokenIds: number[];
  /** One entry per output token: log-probabilities under the model (before temperature/top-k/top-p). */
  logprobs: TokenLogprobWire[];
  usage: { promptTokens: number; completionTokens: number };
  /** The sampling seed used (chosen by the node when the request had none). */
  seed: number;
  timings: { startedAt: number; firstTokenMs: number; totalMs: number };
};

export type ModelAdvert = { id: string; contextLength: number; manifestSha256: string };

export type GatewayMessage =
  | { type: "challenge"; protocol: number; nonce: Hex; gatewayId: string; chainId: number }
  | { type: "welcome"; sessionId: string; statusIntervalMs?: number }
  | { type: "job"; jobId: string; request: unknown }
  | { type: "cancel"; jobId: string }
  | { type: "drain"; reason?: string }
  | { type: "error"; code: string; message: string };

export type NodeMessage =
  | { type: "hello"; protocol: number; node: Address; nodeVersion: string; provider: string; models: ModelAdvert[]; capacity: { maxConcurrent: number }; speed: { tokensPerSecond: number }; auth: { issuedAt: number; signature: Hex } }
  | { type: "status"; activeJobs: number; queuedJobs: number; capacity: number; tokensPerSecond: number; draining: boolean }
  | ({ type: "token"; jobId: string; index: number } & TokenLogprobWire)
  | { type: "result"; jobId: string; result: InferenceResult; receipt: SignedReceipt }
  | { type: "job_error"; jobId: string; code: string; message: string }
  | { type: "leaving"; reason: string; inFlight: number }
  | { type: "bye" };

export class ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ProtocolError";
  }
}

const str = (o: Record<string, unknown>, key: string): string => {
  const v = o[key];
  if (typeof v !== "string" || v.length === 0) throw new ProtocolError(`"${key}" must be a non-empty string`);
  return v;
};
const num = (o: Record<string, unknown>, key: string): number => {
  const v = o[key];
  if (typeof v !== "number" || !Number.isFinite(v)) throw new ProtocolError(`"${key}" must be a number`);
  return v;
};

function frameObject(data: string): Record<string, unknown> {
  let raw: unknown;
  try {
    raw = JSON.parse(data);
  } catch {
    throw new ProtocolError("frame is not JSON");
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new ProtocolError("frame is not a JSON object");
  return raw as Record<string, unknown>;
}

/** Parses a frame the gateway sent (used by the node). The job's request is checked by the node. */
export function parseGatewayMessage(data: string): GatewayMessage {
  const o = frameObject(data);
  switch (o.type) {
    case "challenge": {
      const nonce = str(o, "nonce");
      if (!isHex(nonce) || nonce.length !== 66) throw new ProtocolError("challenge nonce must be 32 bytes hex");
      return { type: "challenge", protocol: num(o, "protocol"), nonce, gatewayId: str(o, "gatewayId"), chainId: num(o, "chainId") };
    }
    case "welcome":
      return { type: "welcome", sessionId: str(o, "sessionId"), ...(o.statusIntervalMs === undefined ? {} : { statusIntervalMs: num(o, "statusIntervalMs") }) };
    case "job":
      return { type: "job", jobId: str(o, "jobId"), request: o.request };
    case "cancel":
      return { type: "cancel", jobId: str(o, "jobId") };
    case "drain":
      return { type: "drain", ...(typeof o.reason === "string" ? { reason: o.reason } : {}) };
    case "error":
      return { type: "error", code: str(o, "code"), message: typeof o.message === "string" ? o.message : "" };
    default:
      throw new ProtocolError(`unknown gateway message type ${JSON.stringify(o.type)}`);
  }
}

/**
 * Parses a frame a node sent (for the gateway). Checks the type and the fields the gateway
 * routes on; the receipt is checked with parseSignedReceipt/verifyReceipt from receipt.ts.
 */
export function parseNodeMessage(data: string): NodeMessage {
  const o = frameObject(data);
  switch (o.type) {
    case "hello": {
      const node = str(o, "node");
      if (!isAddress(node)) throw new ProtocolError("hello.node must be an address");
      if (!Array.isArray(o.models)) throw new ProtocolError("hello.models must be an array");
      return o as NodeMessage;
    }
    case "status":
      num(o, "activeJobs");
      num(o, "capacity");
      return o as NodeMessage;
    case "token":
      str(o, "jobId");
      num(o, "index");
      num(o, "tokenId");
      return o as NodeMessage;
    case "result":
    case "job_error":
      str(o, "jobId");
      return o as NodeMessage;
    case "leaving":
    case "bye":
      return o as NodeMessage;
    default:
      throw new ProtocolError(`unknown node message type ${JSON.stringify(o.type)}`);
  }
}
