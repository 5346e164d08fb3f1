/**
 * verifyReceipt for long-lived verifiers (the gateway checks every node-signed receipt): the
 * same ReceiptCheck, but each node's key is recovered once and kept as a window table, so a
 * later receipt costs a two-point multiplication (~1 ms) instead of a public-key recovery.
 * Anything not plainly valid (odd input, wrong signer, other chain) gets verifyReceipt's own
 * answer, reason string included.
 *
 * @example
 * const verifier = new ReceiptVerifier();
 * const check = await verifier.verify(signed, { expectedSigner: node, chainId: 31337 });
 */
import type { Address } from "viem";
import { verifyReceipt, type ReceiptCheck, type SignedReceipt } from "../receipt.ts";
import { checkReceiptSignature, checksumAddress, NodeKeyCache, SIGNATURE_VALID } from "./signatures.ts";

export type ReceiptVerifierOptions = {
  /** Node keys kept (least recently used go first); default 1,024. */
  maxNodes?: number;
  /** Window size of each node key's table; default 6 (~190 point additions to build). */
  window?: number;
};

export type ReceiptExpectation = { chainId?: number; expectedSigner?: Address };

const HEX_ADDRESS = /^0x[0-9a-fA-F]{40}$/;

export class ReceiptVerifier {
  private readonly keys: NodeKeyCache;

  constructor(options: ReceiptVerifierOptions = {}) {
    const window = options.window ?? 6;
    this.keys = new NodeKeyCache(() => window, options.maxNodes ?? 1_024);
  }

  /** Node keys currently cached. */
  get cachedNodes(): number {
    return this.keys.size;
  }

  /** verifyReceipt(signed, expect)'s result. Never throws on bad receipts. */
  async verify(signed: SignedReceipt, expect: ReceiptExpectation = {}): Promise<ReceiptCheck> {
    if (expect.chainId !== undefined && signed.chainId !== expect.chainId) return verifyReceipt(signed, expect);
    // viem's isAddressEqual throws on a non-address: leave that behaviour to verifyReceipt too.
    if (expect.expectedSigner !== undefined && !(typeof expect.expectedSigner === "string" && HEX_ADDRESS.test(expect.expectedSigner))) return verifyReceipt(signed, expect);
    if (checkReceiptSignature(signed, this.keys) !== SIGNATURE_VALID) return verifyReceipt(signed, expect);
    // Valid: the signer is receipt.node, spelt as viem's recovery spells it (EIP-55).
    const signer = checksumAddress(signed.receipt.node) as Address;
    if (expect.expectedSigner !== undefined && expect.expectedSigner.toLowerCase() !== signer.toLowerCase()) {
      return { valid: false, reason: `signed by ${signer}, expected ${expect.expectedSigner}`, signer };
    }
    return { valid: true, signer };
  }
}
