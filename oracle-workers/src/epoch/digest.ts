/**
 * The report's input digests: keccak256 over canonical JSON of (1) the accepted receipts,
 * (2) the invalidations and (3) the chain state at the close. Two oracles that disagree on a
 * root compare these three first: they say which input differs.
 */
import { keccak_256 } from "@noble/hashes/sha3.js";
import type { Hex } from "viem";
import { REWARD_PARAM_NAMES } from "../../../sdk/src/rewardParams.ts";
import type { AcceptedReceipt } from "./screen.ts";
import type { EpochChainState, Invalidation } from "./types.ts";
import { sortAddresses } from "./validators.ts";

export type InputDigests = { readonly receipts: Hex; readonly invalidations: Hex; readonly chain: Hex };

const utf8 = new TextEncoder();

function toHex(bytes: Uint8Array): Hex {
  let hex = "0x";
  for (const byte of bytes) hex += byte.toString(16).padStart(2, "0");
  return hex as Hex;
}

export function keccakText(text: string): Hex {
  return toHex(keccak_256(utf8.encode(text)));
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** [node, requestId, paidTokens] per accepted receipt, in canonical order, as a JSON array, hashed in chunks. */
export function acceptedReceiptsDigest(accepted: readonly AcceptedReceipt[]): Hex {
  const hasher = keccak_256.create();
  hasher.update(utf8.encode("["));
  const CHUNK = 4096;
  for (let start = 0; start < accepted.length; start += CHUNK) {
    const lines = accepted.slice(start, start + CHUNK).map((r) => JSON.stringify([r.node, r.requestId, r.paidTokens]));
    hasher.update(utf8.encode((start === 0 ? "" : ",") + lines.join(",")));
  }
  hasher.update(utf8.encode("]"));
  return toHex(hasher.digest());
}

/** This epoch's invalidations (any epoch given is kept: the digest covers what was read), sorted. */
export function invalidationsDigest(invalidations: readonly Invalidation[]): Hex {
  const rows = invalidations
    .map((i) => [i.node.toLowerCase(), i.epoch, i.evidenceHash.toLowerCase(), i.reason] as const)
    .sort((a, b) => compare(JSON.stringify(a), JSON.stringify(b)));
  return keccakText(JSON.stringify(rows));
}

/** Everything read from the chain, maps sorted by key. */
export function chainStateDigest(chain: EpochChainState): Hex {
  const params = REWARD_PARAM_NAMES.map((name) => [name, String(chain.params[name])]);
  const models = [...chain.modelWeights].sort(([a], [b]) => compare(a, b));
  const nodes = sortAddresses(chain.nodes.keys()).map((node) => {
    const n = chain.nodes.get(node)!;
    return [node, n.account, n.active, n.suspended, n.banned];
  });
  const accounts = sortAddresses(chain.accounts.keys()).map((account) => {
    const a = chain.accounts.get(account)!;
    return [account, a.bond.toString(), a.registered, a.suspended];
  });
  const block = [chain.block.number.toString(), chain.block.hash.toLowerCase(), chain.block.timestamp.toString()];
  return keccakText(
    JSON.stringify([chain.chainId, chain.epoch, chain.closesAt.toString(), block, params, chain.emissionBudget.toString(), models, nodes, accounts]),
  );
}

export function inputDigests(accepted: readonly AcceptedReceipt[], invalidations: readonly Invalidation[], chain: EpochChainState): InputDigests {
  return { receipts: acceptedReceiptsDigest(accepted), invalidations: invalidationsDigest(invalidations), chain: chainStateDigest(chain) };
}

/** The single inputsDigest: keccak256 of the three digests' JSON array. */
export function combinedInputsDigest(digests: InputDigests): Hex {
  return keccakText(JSON.stringify([digests.receipts, digests.invalidations, digests.chain]));
}
