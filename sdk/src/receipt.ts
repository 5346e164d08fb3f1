/**
 * Inference receipts: what a worker node signs for every result, and how anyone checks it.
 * One module shared by the node (signs), the gateway (stores, forwards) and the oracle and
 * validators (verify, count work). EIP-712 typed data, so a contract can verify it too.
 *
 * @example
 * const signed = await signReceipt(account, fields, 31337);
 * const check = await verifyReceipt(signed, { chainId: 31337 });
 * if (!check.valid) throw new Error(check.reason);
 */
import { encodePacked, isAddress, isAddressEqual, isHex, keccak256, recoverTypedDataAddress, type Address, type Hex, type LocalAccount } from "viem";
import { checkCanonicalSignature } from "./signature.ts";

export const RECEIPT_DOMAIN_NAME = "POD Network";
export const RECEIPT_DOMAIN_VERSION = "1";

/** EIP-712 types. Changing them is a protocol change: bump RECEIPT_DOMAIN_VERSION. */
export const RECEIPT_TYPES = {
  InferenceReceipt: [
    { name: "requestId", type: "string" },
    { name: "modelId", type: "string" },
    { name: "node", type: "address" },
    { name: "promptHash", type: "bytes32" },
    { name: "outputHash", type: "bytes32" },
    { name: "logprobsHash", type: "bytes32" },
    { name: "promptTokens", type: "uint32" },
    { name: "outputTokens", type: "uint32" },
    { name: "startedAt", type: "uint64" },
    { name: "firstTokenMs", type: "uint32" },
    { name: "totalMs", type: "uint32" },
  ],
} as const;

/** The signed fields, JSON-safe (numbers, hex strings). */
export type Receipt = {
  /** The gateway's request id (or the local endpoint's). */
  requestId: string;
  /** Model id from the model's manifest. */
  modelId: string;
  /** The node key's address: the signer. */
  node: Address;
  /** hashTokenIds(prompt token ids). */
  promptHash: Hex;
  /** hashTokenIds(output token ids), EOS included when the model produced it. */
  outputHash: Hex;
  /** hashLogprobs(log-probability of each output token under the model). */
  logprobsHash: Hex;
  promptTokens: number;
  outputTokens: number;
  /** Unix milliseconds when the node started the request (prefill). */
  startedAt: number;
  /** Milliseconds from startedAt to the first output token. */
  firstTokenMs: number;
  /** Milliseconds from startedAt to the last output token. */
  totalMs: number;
};

export type SignedReceipt = { receipt: Receipt; chainId: number; signature: Hex };

export type ReceiptCheck = { valid: true; signer: Address } | { valid: false; reason: string; signer?: Address };

export function receiptDomain(chainId: number) {
  return { name: RECEIPT_DOMAIN_NAME, version: RECEIPT_DOMAIN_VERSION, chainId } as const;
}

/** keccak256(abi.encodePacked(uint32[] ids)): each id padded to 32 bytes, as Solidity does. */
export function hashTokenIds(ids: readonly number[]): Hex {
  return keccak256(encodePacked(["uint32[]"], [ids as number[]]));
}

/** keccak256 over each log-probability as a big-endian IEEE-754 float32 (exact across JSON). */
export function hashLogprobs(logprobs: readonly number[]): Hex {
  const view = new DataView(new ArrayBuffer(logprobs.length * 4));
  logprobs.forEach((lp, i) => view.setFloat32(i * 4, lp, false));
  return keccak256(new Uint8Array(view.buffer));
}

function typedMessage(r: Receipt) {
  return { ...r, startedAt: BigInt(r.startedAt) };
}

/** Signs with the node's key; `node` is filled from the account. */
export async function signReceipt(account: LocalAccount, fields: Omit<Receipt, "node">, chainId: number): Promise<SignedReceipt> {
  const receipt: Receipt = { ...fields, node: account.address };
  assertReceiptRanges(receipt);
  const signature = await account.signTypedData({ domain: receiptDomain(chainId), types: RECEIPT_TYPES, primaryType: "InferenceReceipt", message: typedMessage(receipt) });
  return { receipt, chainId, signature };
}

export async function recoverReceiptSigner(signed: SignedReceipt): Promise<Address> {
  return recoverTypedDataAddress({
    domain: receiptDomain(signed.chainId),
    types: RECEIPT_TYPES,
    primaryType: "InferenceReceipt",
    message: typedMessage(signed.receipt),
    signature: signed.signature,
  });
}

/**
 * Valid when the signature recovers to `receipt.node` (and to `expectedSigner` and `chainId`
 * when given). Never throws on bad input: a malformed receipt is simply not valid.
 */
export async function verifyReceipt(signed: SignedReceipt, expect: { chainId?: number; expectedSigner?: Address } = {}): Promise<ReceiptCheck> {
  if (expect.chainId !== undefined && signed.chainId !== expect.chainId) return { valid: false, reason: `chain id ${signed.chainId} is not ${expect.chainId}` };
  const canonical = checkCanonicalSignature(signed.signature);
  if (canonical !== undefined) return { valid: false, reason: canonical };
  let signer: Address;
  try {
    assertReceiptRanges(signed.receipt);
    signer = await recoverReceiptSigner(signed);
  } catch (error) {
    return { valid: false, reason: `malformed receipt or signature: ${error instanceof Error ? error.message : String(error)}` };
  }
  if (!isAddressEqual(signer, signed.receipt.node)) return { valid: false, reason: `signed by ${signer}, not by the receipt's node ${signed.receipt.node}`, signer };
  if (expect.expectedSigner !== undefined && !isAddressEqual(signer, expect.expectedSigner)) return { valid: false, reason: `signed by ${signer}, expected ${expect.expectedSigner}`, signer };
  return { valid: true, signer };
}

const UINT32_MAX = 2 ** 32 - 1;
const isUint = (v: unknown, max: number): v is number => typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= max;
const isBytes32 = (v: unknown): v is Hex => typeof v === "string" && isHex(v) && v.length === 66;

function assertReceiptRanges(r: Receipt): void {
  for (const key of ["promptTokens", "outputTokens", "firstTokenMs", "totalMs"] as const) {
    if (!isUint(r[key], UINT32_MAX)) throw new Error(`${key} must be a uint32`);
  }
  if (!isUint(r.startedAt, Number.MAX_SAFE_INTEGER)) throw new Error("startedAt must be a non-negative integer");
}

/** Validates untrusted JSON (from a socket or a database) into a SignedReceipt. */
export function parseSignedReceipt(raw: unknown): SignedReceipt {
  if (typeof raw !== "object" || raw === null) throw new Error("receipt: not an object");
  const o = raw as Record<string, unknown>;
  const r = o.receipt as Record<string, unknown> | undefined;
  if (typeof r !== "object" || r === null) throw new Error("receipt: missing receipt fields");
  if (!isUint(o.chainId, Number.MAX_SAFE_INTEGER)) throw new Error("receipt: bad chainId");
  if (typeof o.signature !== "string" || !isHex(o.signature)) throw new Error("receipt: bad signature");
  if (typeof r.requestId !== "string" || typeof r.modelId !== "string") throw new Error("receipt: requestId and modelId must be strings");
  if (typeof r.node !== "string" || !isAddress(r.node)) throw new Error("receipt: bad node address");
  for (const key of ["promptHash", "outputHash", "logprobsHash"]) if (!isBytes32(r[key])) throw new Error(`receipt: ${key} must be bytes32`);
  const receipt: Receipt = {
    requestId: r.requestId,
    modelId: r.modelId,
    node: r.node,
    promptHash: r.promptHash as Hex,
    outputHash: r.outputHash as Hex,
    logprobsHash: r.logprobsHash as Hex,
    promptTokens: r.promptTokens as number,
    outputTokens: r.outputTokens as number,
    startedAt: r.startedAt as number,
    firstTokenMs: r.firstTokenMs as number,
    totalMs: r.totalMs as number,
  };
  assertReceiptRanges(receipt);
  return { receipt, chainId: o.chainId, signature: o.signature };
}
