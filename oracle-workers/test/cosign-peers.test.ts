/**
 * Oracles co-signing over HTTP: real oracle servers on 127.0.0.1 (port 0), each with its own key,
 * and collectSignatures polling them: agreement, disagreement field by field, forged signers,
 * keys outside the oracle set, peers down or not signed yet.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { getAddress, keccak256, stringToBytes, type Address, type LocalAccount } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import type { EpochRoot } from "../../sdk/src/typedData.ts";
import { OracleMetrics } from "../src/cosign/metrics.ts";
import { collectSignatures, CosignError, describeMismatch, fetchPeerReport, PeerUnavailable, type CollectSignaturesOptions } from "../src/cosign/peers.ts";
import { createOracleServer, serveOracle, type ServedOracle } from "../src/cosign/server.ts";
import { recoverEpochRootSigner, signEpochRoot, type SignedEpochRoot } from "../src/cosign/signedRoot.ts";

const CHAIN_ID = 31337;
const DISTRIBUTOR = getAddress("0x5fbdb2315678afecb367f032d93f642f64180aa3");
const DOMAIN = { chainId: CHAIN_ID, distributor: DISTRIBUTOR };
// Hardhat's accounts 1..4: A (0x7099...) sorts after B (0x3C44...), C (0x90F7...) after both.
const A = privateKeyToAccount("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d");
const B = privateKeyToAccount("0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a");
const C = privateKeyToAccount("0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6");
const OUTSIDER = privateKeyToAccount("0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a");
const ORACLES: Address[] = [A.address, B.address, C.address];
const EPOCH = 9;
const REPORT = '{"epoch":9,"accounts":[{"account":"0x01","reward":"5"}]}';
const ROOT: EpochRoot = { epoch: BigInt(EPOCH), root: `0x${"aa".repeat(32)}`, total: 5n, reportHash: keccak256(stringToBytes(REPORT)), validatorsRoot: `0x${"bb".repeat(32)}` };

const running: ServedOracle[] = [];
after(async () => {
  for (const s of running) await s.close();
});

/** An oracle server with in-memory data: what the pipeline serves from its folder. */
async function oracle(signed: SignedEpochRoot | null, report: string | null = REPORT) {
  const data = { signed, report };
  const served = await serveOracle(
    createOracleServer({
      reportOf: async (epoch) => (epoch === EPOCH ? data.report : null),
      signatureOf: async (epoch) => (epoch === EPOCH ? data.signed : null),
      status: () => ({ lastComputed: EPOCH, lastProposed: null, lastSettled: null }),
      registry: new OracleMetrics().registry,
    }),
  );
  running.push(served);
  return { url: served.url, data, close: () => served.close() };
}

const sign = (key: LocalAccount, root: EpochRoot = ROOT) => signEpochRoot(key, root, DOMAIN);

async function collect(own: SignedEpochRoot, peers: string[], extra: Partial<CollectSignaturesOptions> = {}) {
  return collectSignatures({ peers, epochRoot: ROOT, own, oracleSet: ORACLES, quorum: 2, chainId: CHAIN_ID, distributor: DISTRIBUTOR, timeoutMs: 1_000, pollIntervalMs: 50, ...extra });
}

test("two oracles sign the same root: each collects both signatures, valid and ascending by signer", async () => {
  const [ownA, ownB] = [await sign(A), await sign(B)];
  const [serverA, serverB] = [await oracle(ownA), await oracle(ownB)];
  const fromA = await collect(ownA, [serverB.url]);
  assert.deepEqual(fromA.signatures.map((s) => s.signer), [B.address, A.address]);
  assert.ok(BigInt(B.address) < BigInt(A.address));
  for (const s of fromA.signatures) assert.equal(await recoverEpochRootSigner(ROOT, s.signature, DOMAIN), s.signer);
  assert.deepEqual([fromA.mismatches, fromA.unreachable, fromA.pending, fromA.rejected, fromA.quorumReached], [[], [], [], [], true]);
  // Both sides end with the same list, byte for byte: either may post.
  const fromB = await collect(ownB, [serverA.url]);
  assert.deepEqual(fromB.signatures, fromA.signatures);
  // Our own server or a repeated peer in the list adds no second copy of a signer.
  const repeated = await collect(ownA, [serverA.url, serverB.url, `${serverB.url}/`]);
  assert.deepEqual(repeated.signatures, fromA.signatures);
});

test("a peer that signed a different total is a mismatch naming the fields; its report can be fetched to diff", async () => {
  const theirReport = '{"epoch":9,"accounts":[{"account":"0x01","reward":"6"}]}';
  const theirRoot = { ...ROOT, total: 6n, reportHash: keccak256(stringToBytes(theirReport)) };
  const peer = await oracle(await sign(B, theirRoot), theirReport);
  const got = await collect(await sign(A), [peer.url]);
  assert.equal(got.quorumReached, false);
  assert.deepEqual(got.signatures.map((s) => s.signer), [A.address]);
  assert.equal(got.mismatches.length, 1);
  const [m] = got.mismatches;
  assert.deepEqual([m!.peer, m!.signer, m!.fields], [peer.url, B.address, ["total", "reportHash"]]);
  assert.deepEqual([m!.theirs, m!.ours], [theirRoot, ROOT]);
  assert.match(describeMismatch(m!), /total: theirs 6 ours 5; reportHash: theirs 0x/);
  assert.equal(await fetchPeerReport(peer.url, EPOCH), theirReport);
  assert.equal(await fetchPeerReport(peer.url, EPOCH + 1), null);
});

test("forged or foreign signatures are rejected: another oracle's name, a key outside the set, another chain", async () => {
  const forged = await oracle({ ...(await sign(C)), signer: B.address }); // C's signature claiming to be B
  const outsider = await oracle(await sign(OUTSIDER));
  const otherChain = await oracle(await signEpochRoot(B, ROOT, { chainId: 1, distributor: DISTRIBUTOR }));
  const garbage = await oracle(null);
  garbage.data.signed = { ...(await sign(C)), epochRoot: { ...ROOT, total: -1n } }; // serialises a negative total
  const got = await collect(await sign(A), [forged.url, outsider.url, otherChain.url, garbage.url]);
  assert.deepEqual(got.signatures.map((s) => s.signer), [A.address]);
  assert.deepEqual(got.mismatches, []);
  assert.deepEqual(got.rejected.map((r) => r.peer), [forged.url, outsider.url, otherChain.url, garbage.url]);
  assert.match(got.rejected[0]!.reason, new RegExp(`recovers to ${C.address}, not to the signer it names \\(${B.address}\\)`));
  assert.match(got.rejected[1]!.reason, new RegExp(`${OUTSIDER.address} is not in the oracle set`));
  assert.match(got.rejected[2]!.reason, /recovers to 0x/);
  assert.match(got.rejected[3]!.reason, /epochRoot\.total/);
});

test("a peer down is unreachable and one that never signs is pending, after the deadline; a late signer is waited for", async () => {
  const down = await oracle(null);
  await down.close();
  const silent = await oracle(null);
  const late = await oracle(null);
  const lateSignature = await sign(C);
  setTimeout(() => (late.data.signed = lateSignature), 300);
  const started = Date.now();
  const got = await collect(await sign(A), [down.url, silent.url, late.url], { timeoutMs: 800 });
  const took = Date.now() - started;
  assert.deepEqual([got.unreachable, got.pending], [[down.url], [silent.url]]);
  assert.deepEqual(got.signatures.map((s) => s.signer), [A.address, C.address]);
  assert.equal(got.quorumReached, true);
  assert.ok(took >= 750 && took < 1_500, `took ${took} ms`);
  await assert.rejects(fetchPeerReport(down.url, EPOCH, { timeoutMs: 500 }), PeerUnavailable);
  // Every peer settled early: no waiting for the deadline.
  const quick = Date.now();
  await collect(await sign(A), [late.url], { timeoutMs: 10_000 });
  assert.ok(Date.now() - quick < 1_000);
});

test("our own signature must be usable: over our root, by an oracle, in the distributor's domain", async () => {
  await assert.rejects(collect(await sign(OUTSIDER), []), (e: unknown) => e instanceof CosignError && /not in the oracle set/.test(e.message));
  await assert.rejects(collect(await sign(A, { ...ROOT, total: 7n }), []), (e: unknown) => e instanceof CosignError && /another root \(total\)/.test(e.message));
  await assert.rejects(collect(await signEpochRoot(A, ROOT, { chainId: 1, distributor: DISTRIBUTOR }), []), CosignError);
  await assert.rejects(collect(await sign(A), [], { quorum: 4 }), CosignError);
  const alone = await collect(await sign(A), [], { quorum: 1 });
  assert.deepEqual([alone.signatures.length, alone.quorumReached], [1, true]);
});
