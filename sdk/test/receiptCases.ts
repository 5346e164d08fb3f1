/**
 * Signed receipts for the signature-check equivalence tests (SDK and oracle): valid ones from
 * three keys, then tampered, wrong-signer, other-chain, non-canonical and malformed variants.
 */
import { toHex, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { signReceipt, type Receipt, type SignedReceipt } from "../src/receipt.ts";

export const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
export const keys = [1, 2, 3].map((i) => privateKeyToAccount(toHex(i * 7919 + 1, { size: 32 })));
const hash = (i: number): Hex => toHex(i, { size: 32 });

export function fields(i: number): Omit<Receipt, "node"> {
  return {
    requestId: `req-${i}-é✓`, modelId: "pod-gpt2-tiny", promptHash: hash(i), outputHash: hash(i + 1), logprobsHash: hash(i + 2),
    promptTokens: 10 + i, outputTokens: 20 + i, startedAt: 1_700_000_000_000 + i, firstTokenMs: 5, totalMs: 50,
  };
}

export function withSignature(signed: SignedReceipt, edit: (r: bigint, s: bigint, v: number) => [bigint, bigint, number]): SignedReceipt {
  const [r, s, v] = edit(BigInt(signed.signature.slice(0, 66)), BigInt(`0x${signed.signature.slice(66, 130)}`), Number.parseInt(signed.signature.slice(130), 16));
  return { ...signed, signature: `0x${r.toString(16).padStart(64, "0")}${s.toString(16).padStart(64, "0")}${v.toString(16).padStart(2, "0")}` };
}

export type NamedCase = { name: string; signed: SignedReceipt };

/** 18 valid receipts (6 per key), then the odd ones, each derived from the first. */
export async function receiptCases(): Promise<NamedCase[]> {
  const list: NamedCase[] = [];
  for (const [k, key] of keys.entries()) {
    for (let i = 0; i < 6; i++) list.push({ name: `valid ${k}/${i}`, signed: await signReceipt(key, fields(k * 100 + i), 31337) });
  }
  const base = list[0]!.signed;
  const receipt = base.receipt;
  list.push(
    { name: "tampered outputTokens", signed: { ...base, receipt: { ...receipt, outputTokens: receipt.outputTokens + 1 } } },
    { name: "node of another key", signed: { ...base, receipt: { ...receipt, node: keys[1]!.address } } },
    { name: "other chain id", signed: { ...base, chainId: 1 } },
    { name: "flipped v", signed: withSignature(base, (r, s, v) => [r, s, v === 27 ? 28 : 27]) },
    { name: "high s twin", signed: withSignature(base, (r, s, v) => [r, N - s, v === 27 ? 28 : 27]) },
    { name: "v as 0/1", signed: withSignature(base, (r, s, v) => [r, s, v - 27]) },
    { name: "r zero", signed: withSignature(base, (_r, s, v) => [0n, s, v]) },
    { name: "r not on the curve or changed", signed: withSignature(base, (r, s, v) => [r + 1n, s, v]) },
    { name: "s zero", signed: withSignature(base, (r, _s, v) => [r, 0n, v]) },
    { name: "short signature", signed: { ...base, signature: base.signature.slice(0, 130) as Hex } },
    { name: "lower-case node", signed: { ...base, receipt: { ...receipt, node: receipt.node.toLowerCase() as Hex } } },
    { name: "upper-case node", signed: { ...base, receipt: { ...receipt, node: `0x${receipt.node.slice(2).toUpperCase()}` as Hex } } },
    { name: "bad checksum node", signed: { ...base, receipt: { ...receipt, node: `0x${receipt.node.slice(2, 41)}${receipt.node[41] === "a" ? "A" : "a"}` as Hex } } },
    { name: "short bytes32", signed: { ...base, receipt: { ...receipt, promptHash: "0x1234" } } },
    { name: "negative tokens", signed: { ...base, receipt: { ...receipt, promptTokens: -1 } } },
    { name: "fractional tokens", signed: { ...base, receipt: { ...receipt, promptTokens: 1.5 } } },
  );
  return list;
}

/** A deterministic stream of one-character mutations of valid receipts (signature, node, hash, timing). */
export async function mutatedReceipts(count: number): Promise<SignedReceipt[]> {
  const valid = await Promise.all(keys.map((key, k) => signReceipt(key, fields(k), 31337)));
  let seed = 12345;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const hexDigits = "0123456789abcdefABCDEF";
  const mutate = (text: string, from: number) => {
    const at = from + random(text.length - from);
    return `${text.slice(0, at)}${hexDigits[random(hexDigits.length)]}${text.slice(at + 1)}`;
  };
  const batch: SignedReceipt[] = [...valid]; // first: teaches a cache each node's key
  for (let i = 0; i < count; i++) {
    const base = valid[random(valid.length)]!;
    const r = base.receipt;
    const variant = random(4);
    batch.push(
      variant === 0 ? { ...base, signature: mutate(base.signature, 2) as Hex }
      : variant === 1 ? { ...base, receipt: { ...r, node: mutate(r.node, 2) as Hex } }
      : variant === 2 ? { ...base, receipt: { ...r, outputHash: mutate(r.outputHash, 2) as Hex } }
      : { ...base, receipt: { ...r, totalMs: r.totalMs + random(3) } },
    );
  }
  return batch;
}
