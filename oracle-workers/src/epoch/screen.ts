/**
 * Receipt screening: which of an epoch's receipts pay their node, and why the others do not.
 * Pure apart from the signature workers. The receipts are sorted first by (node, request id,
 * then every other field of the gateway's record), so the verdicts, and which of two
 * duplicates is kept, do not depend on the order the gateways served them in.
 */
import type { Address } from "viem";
import type { EpochReceipt } from "../../../sdk/src/epochData.ts";
import { checksumAddress, isAddressShaped } from "../../../sdk/src/address.ts";
import { DROP_REASONS, type DroppedReceipt } from "../../../sdk/src/epochReport.ts";
import type { DropReason, EpochChainState, Invalidation } from "./types.ts";
import { verifyReceiptSignatures, type VerifyOptions } from "./verify.ts";


export type AcceptedReceipt = {
  /** Checksummed node key. */
  readonly node: Address;
  /** Checksummed account credited with the work. */
  readonly account: Address;
  readonly requestId: string;
  readonly model: string;
  /** min(signed, recorded) prompt tokens + min(signed, recorded) output tokens. */
  readonly paidTokens: number;
  readonly workWeightPpm: number;
};

export type Screening = {
  /** In the canonical order (sorted by node, request id, record). */
  readonly accepted: readonly AcceptedReceipt[];
  readonly dropped: readonly DroppedReceipt[];
};

export type ScreenContext = {
  readonly chain: EpochChainState;
  readonly invalidations: readonly Invalidation[];
  readonly verify?: VerifyOptions;
};

/** A gateway record that the SDK's parser should have refused (a bug upstream). */
export class MalformedReceiptError extends Error {
  override readonly name = "MalformedReceiptError";
}

/** Checksums addresses, remembering each spelling (a few hundred nodes, ~100k receipts). */
export class AddressBook {
  private readonly known = new Map<string, Address>();
  checksum(address: string): Address {
    let checksummed = this.known.get(address);
    if (checksummed === undefined) {
      if (!isAddressShaped(address)) throw new MalformedReceiptError(`not an address: ${JSON.stringify(address)}`);
      checksummed = checksumAddress(address) as Address;
      this.known.set(address, checksummed);
    }
    return checksummed;
  }
}

const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The record's full content as one string, for the final tie-break of the canonical order. */
function recordKey(receipt: EpochReceipt): string {
  return JSON.stringify(receipt, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value));
}

/** The receipts in canonical order: node (lower case), request id, then the whole record. */
export function canonicalOrder(receipts: readonly EpochReceipt[]): EpochReceipt[] {
  const keyed = receipts.map((receipt) => ({ receipt, node: receipt.nodeAddress.toLowerCase(), full: "" }));
  keyed.sort((a, b) => {
    const byNode = compareStrings(a.node, b.node) || compareStrings(a.receipt.requestId, b.receipt.requestId);
    if (byNode !== 0) return byNode;
    // Rare (same node and request id twice): build the full keys lazily.
    if (a.full === "") a.full = recordKey(a.receipt);
    if (b.full === "") b.full = recordKey(b.receipt);
    return compareStrings(a.full, b.full);
  });
  return keyed.map((k) => k.receipt);
}

/** Screens every receipt; each lands in exactly one of accepted and dropped. */
export async function screenReceipts(receipts: readonly EpochReceipt[], ctx: ScreenContext): Promise<Screening> {
  const { chain } = ctx;
  const book = new AddressBook();
  const ordered = canonicalOrder(receipts);

  // Signatures of the receipts that reach that check, verified as one batch (in node order).
  const toVerify = ordered.filter((r) => r.signedReceipt !== null && r.signedReceipt.chainId === chain.chainId);
  const verdicts = await verifyReceiptSignatures(toVerify.map((r) => r.signedReceipt!), ctx.verify);
  const signatureValid = new Map<EpochReceipt, boolean>();
  toVerify.forEach((r, i) => signatureValid.set(r, verdicts[i]!));

  const invalidatedNodes = new Set<string>();
  for (const invalidation of ctx.invalidations) {
    if (invalidation.epoch === chain.epoch) invalidatedNodes.add(invalidation.node.toLowerCase());
  }

  const accepted: AcceptedReceipt[] = [];
  const dropped: DroppedReceipt[] = [];
  const counted = new Set<string>();
  for (const record of ordered) {
    const node = book.checksum(record.nodeAddress);
    const reason = dropReason(record, node, chain, signatureValid, counted, invalidatedNodes);
    if (reason !== undefined) {
      dropped.push({ node, requestId: record.requestId, reason });
      continue;
    }
    const signed = record.signedReceipt!.receipt;
    accepted.push({
      node,
      account: book.checksum(record.nodeAccount),
      requestId: record.requestId,
      model: record.model,
      paidTokens: Math.min(signed.promptTokens, record.promptTokens) + Math.min(signed.outputTokens, record.completionTokens),
      workWeightPpm: chain.modelWeights.get(record.model)!,
    });
  }
  return { accepted, dropped };
}

function dropReason(
  record: EpochReceipt,
  node: Address,
  chain: EpochChainState,
  signatureValid: ReadonlyMap<EpochReceipt, boolean>,
  counted: Set<string>,
  invalidatedNodes: ReadonlySet<string>,
): DropReason | undefined {
  const signed = record.signedReceipt;
  if (signed === null) return "unsigned";
  if (signed.chainId !== chain.chainId) return "wrong_chain";
  if (signatureValid.get(record) !== true) return "bad_signature";
  if (record.epoch !== chain.epoch) return "wrong_epoch";
  const receipt = signed.receipt;
  if (receipt.requestId !== record.requestId || receipt.modelId !== record.model || receipt.node.toLowerCase() !== node.toLowerCase()) {
    return "mismatch";
  }
  // Only a receipt that passed every check above claims its (node, request id).
  const key = `${node.toLowerCase()} ${record.requestId}`;
  if (counted.has(key)) return "duplicate";
  counted.add(key);
  if (invalidatedNodes.has(node.toLowerCase())) return "invalidated";
  const registration = chain.nodes.get(node);
  if (registration === undefined || registration.account === null || registration.account.toLowerCase() !== record.nodeAccount.toLowerCase()) {
    return "node_not_registered";
  }
  // A banned key is reported as banned even when the registry no longer lists it active.
  if (registration.banned) return "node_banned";
  if (!registration.active) return "node_not_registered";
  if (!chain.modelWeights.has(record.model)) return "unknown_model";
  return undefined;
}
