/**
 * ECDSA signature rules shared by every signed object of the protocol (receipts, API keys).
 * One signature per message, as OpenZeppelin's ECDSA.recover demands on-chain: 65 bytes,
 * s in the lower half of the curve order, v 27 or 28. Without this, the same message would
 * verify under several signatures (s flipped, v as 0/1), and any dedupe by signature breaks.
 */
import { isHex, type Hex } from "viem";

/** Half the secp256k1 group order: signatures with a larger s are the malleable twin. */
export const SECP256K1_HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;

/** Why `signature` is not a canonical 65-byte ECDSA signature, or undefined when it is. */
export function checkCanonicalSignature(signature: Hex): string | undefined {
  if (!isHex(signature) || signature.length !== 132) return "signature must be 65 bytes";
  const s = BigInt(`0x${signature.slice(66, 130)}`);
  const v = Number.parseInt(signature.slice(130, 132), 16);
  if (s > SECP256K1_HALF_N) return "signature is not canonical (high s)";
  if (v !== 27 && v !== 28) return `signature v must be 27 or 28, got ${v}`;
  return undefined;
}
