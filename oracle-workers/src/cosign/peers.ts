/**
 * Co-signing between oracles over HTTP: poll each peer's `GET /epochs/:n/signature` until it
 * answers or the deadline passes, keep the signatures that recover to an oracle of the set and
 * sign exactly our root, and report every disagreement field by field (a mismatch blocks posting;
 * the caller then fetches the peer's report with fetchPeerReport to name the differing accounts).
 *
 * @example
 * const got = await collectSignatures({ peers, epochRoot, own, oracleSet, quorum, chainId, distributor, timeoutMs: 30_000 });
 * if (got.mismatches.length === 0 && got.quorumReached) await propose(epochRoot, got.signatures.map((s) => s.signature));
 */
import { getAddress, isAddressEqual, type Address } from "viem";
import type { EpochRoot } from "../../../sdk/src/typedData.ts";
import {
  compareSigners,
  epochRootDiff,
  epochRootToJson,
  parseSignedEpochRoot,
  recoverEpochRootSigner,
  SignedEpochRootError,
  type EpochRootDomain,
  type EpochRootField,
  type SignedEpochRoot,
} from "./signedRoot.ts";
import { describeFailure, getText, sleep, type TextResponse } from "../sources/http.ts";

export type CollectSignaturesOptions = {
  /** Base URLs of the other oracles' servers (e.g. `http://10.0.0.2:8700`). */
  peers: readonly string[];
  epochRoot: EpochRoot;
  /** This oracle's own signature over epochRoot. */
  own: SignedEpochRoot;
  /** RewardsDistributor's oracles at the time of proposing. */
  oracleSet: readonly Address[];
  quorum: number;
  chainId: number;
  distributor: Address;
  /** Overall deadline for all peers. */
  timeoutMs: number;
  /** Wait between polls of a peer that has not signed yet or is down (default 250 ms). */
  pollIntervalMs?: number;
  /** Limit of one HTTP request (default 5 s, never past the deadline). */
  requestTimeoutMs?: number;
  signal?: AbortSignal;
};

export type SignatureMismatch = { peer: string; signer: Address; theirs: EpochRoot; ours: EpochRoot; fields: EpochRootField[] };
export type RejectedPeer = { peer: string; reason: string };

export type CollectedSignatures = {
  /** Ours and every matching peer's: unique signers, ascending (as proposeRoot demands). */
  signatures: SignedEpochRoot[];
  /** Peers whose valid oracle signature covers a different root. */
  mismatches: SignatureMismatch[];
  /** Peers that could not be reached (refused, timed out, 5xx) until the deadline. */
  unreachable: string[];
  /** Peers that answered but had not signed the epoch (404) by the deadline. */
  pending: string[];
  /** Peers whose answer was malformed, forged or signed by a key outside the oracle set. */
  rejected: RejectedPeer[];
  quorumReached: boolean;
};

/** Our own signature is unusable: a bug or a misconfiguration, never a peer's fault. */
export class CosignError extends Error {
  override name = "CosignError";
}

/** A peer gave no answer (refused, timed out, 5xx). */
export class PeerUnavailable extends Error {
  override name = "PeerUnavailable";
  readonly peer: string;
  constructor(peer: string, message: string) {
    super(`${peer}: ${message}`);
    this.peer = peer;
  }
}

/** A peer answered with something other than what was asked. */
export class PeerDataError extends Error {
  override name = "PeerDataError";
  readonly peer: string;
  constructor(peer: string, message: string) {
    super(`${peer}: ${message}`);
    this.peer = peer;
  }
}

type PeerOutcome =
  | { kind: "signed"; signed: SignedEpochRoot }
  | { kind: "mismatch"; mismatch: SignatureMismatch }
  | { kind: "rejected"; reason: string }
  | { kind: "unreachable" }
  | { kind: "pending" };

export async function collectSignatures(options: CollectSignaturesOptions): Promise<CollectedSignatures> {
  const domain: EpochRootDomain = { chainId: options.chainId, distributor: options.distributor };
  const oracles = options.oracleSet.map((a) => getAddress(a));
  await checkOwn(options, domain, oracles);
  const deadline = Date.now() + options.timeoutMs;
  const outcomes = await Promise.all(options.peers.map((peer) => pollPeer(baseUrl(peer), options, domain, oracles, deadline)));

  const bySigner = new Map<Address, SignedEpochRoot>([[getAddress(options.own.signer), options.own]]);
  const result: CollectedSignatures = { signatures: [], mismatches: [], unreachable: [], pending: [], rejected: [], quorumReached: false };
  outcomes.forEach((outcome, i) => {
    const peer = options.peers[i]!;
    if (outcome.kind === "signed") {
      if (!bySigner.has(outcome.signed.signer)) bySigner.set(outcome.signed.signer, outcome.signed);
    } else if (outcome.kind === "mismatch") result.mismatches.push({ ...outcome.mismatch, peer });
    else if (outcome.kind === "rejected") result.rejected.push({ peer, reason: outcome.reason });
    else result[outcome.kind].push(peer);
  });
  result.signatures = [...bySigner.values()].sort((a, b) => compareSigners(a.signer, b.signer));
  result.quorumReached = result.signatures.length >= options.quorum;
  return result;
}

/** One line per mismatch, for the loud log: which peer, which signer, each differing field. */
export function describeMismatch(m: SignatureMismatch): string {
  const theirs = epochRootToJson(m.theirs);
  const ours = epochRootToJson(m.ours);
  const fields = m.fields.map((f) => `${f}: theirs ${theirs[f]} ours ${ours[f]}`).join("; ");
  return `epoch root mismatch with ${m.peer} (signer ${m.signer}): ${fields}`;
}

/**
 * A peer's report bytes for an epoch (to diff accounts after a mismatch), or null when the peer
 * has none. Throws PeerUnavailable when unreachable, PeerDataError on any other answer.
 */
export async function fetchPeerReport(peer: string, epoch: number, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<string | null> {
  const url = `${baseUrl(peer)}/epochs/${epoch}/report`;
  const res = await get(peer, url, options.timeoutMs ?? 10_000, options.signal);
  if (res.status === 404) return null;
  if (res.status !== 200) throw new PeerDataError(peer, `GET ${url} answered ${res.status}`);
  return res.body;
}

async function checkOwn(options: CollectSignaturesOptions, domain: EpochRootDomain, oracles: Address[]): Promise<void> {
  const { own, epochRoot } = options;
  const differs = epochRootDiff(own.epochRoot, epochRoot);
  if (differs.length > 0) throw new CosignError(`our signature covers another root (${differs.join(", ")})`);
  const recovered = await recoverEpochRootSigner(epochRoot, own.signature, domain);
  if (!isAddressEqual(recovered, own.signer)) throw new CosignError(`our signature recovers to ${recovered}, not ${own.signer}: wrong chain id or distributor?`);
  if (!oracles.some((o) => isAddressEqual(o, own.signer))) throw new CosignError(`our key ${own.signer} is not in the oracle set`);
  if (!Number.isInteger(options.quorum) || options.quorum < 1 || options.quorum > oracles.length) {
    throw new CosignError(`quorum ${options.quorum} does not fit an oracle set of ${oracles.length}`);
  }
}

async function pollPeer(peer: string, options: CollectSignaturesOptions, domain: EpochRootDomain, oracles: Address[], deadline: number): Promise<PeerOutcome> {
  const url = `${peer}/epochs/${options.epochRoot.epoch}/signature`;
  const interval = options.pollIntervalMs ?? 250;
  let last: "unreachable" | "pending" = "unreachable";
  for (;;) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) return { kind: last };
    let res: { status: number; body: string };
    try {
      res = await get(peer, url, Math.min(options.requestTimeoutMs ?? 5_000, remaining), options.signal);
    } catch (error) {
      if (!(error instanceof PeerUnavailable)) throw error;
      res = { status: 0, body: "" };
    }
    if (res.status === 200) return judge(peer, res.body, options, domain, oracles);
    if (res.status === 404) last = "pending";
    else if (res.status === 0 || res.status >= 500) last = "unreachable";
    else return { kind: "rejected", reason: `GET ${url} answered ${res.status}` };
    await sleep(Math.min(interval, deadline - Date.now()), options.signal);
  }
}

async function judge(peer: string, body: string, options: CollectSignaturesOptions, domain: EpochRootDomain, oracles: Address[]): Promise<PeerOutcome> {
  let theirs: SignedEpochRoot;
  try {
    theirs = parseSignedEpochRoot(JSON.parse(body) as unknown, peer);
  } catch (error) {
    if (error instanceof SignedEpochRootError || error instanceof SyntaxError) return { kind: "rejected", reason: error.message };
    throw error;
  }
  let recovered: Address;
  try {
    recovered = await recoverEpochRootSigner(theirs.epochRoot, theirs.signature, domain);
  } catch (error) {
    return { kind: "rejected", reason: `signature does not recover: ${(error as Error).message}` };
  }
  if (!isAddressEqual(recovered, theirs.signer)) return { kind: "rejected", reason: `signature recovers to ${recovered}, not to the signer it names (${theirs.signer})` };
  if (!oracles.some((o) => isAddressEqual(o, theirs.signer))) return { kind: "rejected", reason: `signer ${theirs.signer} is not in the oracle set` };
  const fields = epochRootDiff(theirs.epochRoot, options.epochRoot);
  if (fields.length > 0) return { kind: "mismatch", mismatch: { peer, signer: theirs.signer, theirs: theirs.epochRoot, ours: options.epochRoot, fields } };
  return { kind: "signed", signed: theirs };
}

/** GET with a time limit; network failures, timeouts and 5xx become PeerUnavailable. */
async function get(peer: string, url: string, timeoutMs: number, signal: AbortSignal | undefined): Promise<{ status: number; body: string }> {
  let res: TextResponse;
  try {
    res = await getText(url, { timeoutMs, ...(signal === undefined ? {} : { signal }) });
  } catch (error) {
    if (signal?.aborted) throw error;
    throw new PeerUnavailable(peer, `GET ${url} failed: ${describeFailure(error)}`);
  }
  if (res.status >= 500) throw new PeerUnavailable(peer, `GET ${url} answered ${res.status}`);
  return res;
}

const baseUrl = (peer: string) => peer.replace(/\/+$/, "");
