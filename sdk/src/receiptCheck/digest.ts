/**
 * The EIP-712 digest of an inference receipt, computed directly (no viem): the same bytes as
 * viem's hashTypedData over sdk/src/receipt.ts's domain and RECEIPT_TYPES (a test checks it), at
 * a fraction of the cost, with the domain separator computed once per chain id. Loaded by the
 * oracle's signature workers, so it imports only @noble/hashes.
 *
 * The caller must have checked the receipt's shape (`hasFastPathShape` in signatures.ts):
 * well-formed hex, integer ranges. Anything else goes through the SDK's verifyReceipt.
 */
import { keccak_256 } from "@noble/hashes/sha3.js";
import type { Receipt } from "../receipt.ts";

const DOMAIN_TYPE = "EIP712Domain(string name,string version,uint256 chainId)";
const RECEIPT_TYPE =
  "InferenceReceipt(string requestId,string modelId,address node,bytes32 promptHash,bytes32 outputHash," +
  "bytes32 logprobsHash,uint32 promptTokens,uint32 outputTokens,uint64 startedAt,uint32 firstTokenMs,uint32 totalMs)";
// Kept in sync with sdk/src/receipt.ts by hand; the digest test fails if they drift.
const DOMAIN_NAME = "POD Network";
const DOMAIN_VERSION = "1";

const utf8 = new TextEncoder();
const keccakText = (text: string): Uint8Array => keccak_256(utf8.encode(text));
const RECEIPT_TYPE_HASH = keccakText(RECEIPT_TYPE);

/** Writes the hex digits of `hex` (0x + 2k digits) right-aligned into the 32-byte word at `offset`. */
function writeHexWord(out: Uint8Array, offset: number, hex: string): void {
  const digits = hex.length - 2;
  const start = offset + 32 - digits / 2;
  for (let i = 0; i < digits; i += 2) out[start + i / 2] = Number.parseInt(hex.slice(2 + i, 4 + i), 16);
}

/** A non-negative safe integer as a big-endian 32-byte word at `offset` (the word is zero already). */
function writeUintWord(out: Uint8Array, offset: number, value: number): void {
  let rest = value;
  for (let i = offset + 31; rest > 0; i--) {
    out[i] = rest % 256;
    rest = Math.floor(rest / 256);
  }
}

const domainSeparators = new Map<number, Uint8Array>();

/** keccak256(abi.encode(typeHash, keccak(name), keccak(version), chainId)), cached per chain id. */
export function receiptDomainSeparator(chainId: number): Uint8Array {
  let separator = domainSeparators.get(chainId);
  if (separator === undefined) {
    const encoded = new Uint8Array(4 * 32);
    encoded.set(keccakText(DOMAIN_TYPE), 0);
    encoded.set(keccakText(DOMAIN_NAME), 32);
    encoded.set(keccakText(DOMAIN_VERSION), 64);
    writeUintWord(encoded, 96, chainId);
    separator = keccak_256(encoded);
    domainSeparators.set(chainId, separator);
  }
  return separator;
}

/** keccak256(0x1901 ‖ domainSeparator ‖ hashStruct(receipt)). */
export function receiptDigest(receipt: Receipt, chainId: number): Uint8Array {
  const encoded = new Uint8Array(12 * 32);
  encoded.set(RECEIPT_TYPE_HASH, 0);
  encoded.set(keccakText(receipt.requestId), 32);
  encoded.set(keccakText(receipt.modelId), 64);
  writeHexWord(encoded, 96, receipt.node);
  writeHexWord(encoded, 128, receipt.promptHash);
  writeHexWord(encoded, 160, receipt.outputHash);
  writeHexWord(encoded, 192, receipt.logprobsHash);
  writeUintWord(encoded, 224, receipt.promptTokens);
  writeUintWord(encoded, 256, receipt.outputTokens);
  writeUintWord(encoded, 288, receipt.startedAt);
  writeUintWord(encoded, 320, receipt.firstTokenMs);
  writeUintWord(encoded, 352, receipt.totalMs);
  const message = new Uint8Array(2 + 64);
  message[0] = 0x19;
  message[1] = 0x01;
  message.set(receiptDomainSeparator(chainId), 2);
  message.set(keccak_256(encoded), 34);
  return keccak_256(message);
}
