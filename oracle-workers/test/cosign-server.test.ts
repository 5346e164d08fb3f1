/**
 * One oracle's HTTP server on 127.0.0.1: exact report bytes, its signed root (JSON codec round
 * trip), status and Prometheus metrics from its own registry.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { getAddress, keccak256, stringToBytes, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import type { EpochRoot } from "../../sdk/src/typedData.ts";
import { OracleMetrics } from "../src/cosign/metrics.ts";
import { createOracleServer, serveOracle, type OracleStatus, type ServedOracle } from "../src/cosign/server.ts";
import {
  parseSignedEpochRoot,
  recoverEpochRootSigner,
  serializeSignedEpochRoot,
  signEpochRoot,
  SignedEpochRootError,
  type SignedEpochRoot,
} from "../src/cosign/signedRoot.ts";

const KEY = privateKeyToAccount("0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a");
const DOMAIN = { chainId: 31337, distributor: getAddress("0x5fbdb2315678afecb367f032d93f642f64180aa3") };
// Not canonical on purpose (key order, spacing): served byte for byte, never re-encoded.
const REPORT = '{"epoch":3,  "accounts":[{"account":"0xabc","reward":"12"}],"note":"ünïcode"}';
const ROOT: EpochRoot = { epoch: 3n, root: `0x${"11".repeat(32)}`, total: 10n ** 24n, reportHash: keccak256(stringToBytes(REPORT)), validatorsRoot: `0x${"22".repeat(32)}` };

const reports = new Map<number, string>();
const signatures = new Map<number, SignedEpochRoot>();
const status: OracleStatus = { lastComputed: null, lastProposed: null, lastSettled: null };
const metrics = new OracleMetrics();
let served: ServedOracle;

before(async () => {
  served = await serveOracle(
    createOracleServer({
      reportOf: async (epoch) => reports.get(epoch) ?? null,
      signatureOf: async (epoch) => signatures.get(epoch) ?? null,
      status: () => status,
      registry: metrics.registry,
    }),
  );
});

after(() => served.close());

test("the report is served byte for byte once computed, 404 before; bad epochs are 400", async () => {
  assert.match(served.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal((await fetch(`${served.url}/epochs/3/report`)).status, 404);
  reports.set(3, REPORT);
  const res = await fetch(`${served.url}/epochs/3/report`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "application/json");
  const bytes = new Uint8Array(await res.arrayBuffer());
  assert.deepEqual(bytes, stringToBytes(REPORT));
  assert.equal(keccak256(bytes), ROOT.reportHash);
  for (const bad of ["x", "-1", "1.5", "99999999999999999"]) assert.equal((await fetch(`${served.url}/epochs/${bad}/report`)).status, 400, bad);
  assert.equal((await fetch(`${served.url}/nope`)).status, 404);
});

test("the signed root: 404 until signed, then the JSON form that parses back to what was signed", async () => {
  assert.equal((await fetch(`${served.url}/epochs/3/signature`)).status, 404);
  const own = await signEpochRoot(KEY, ROOT, DOMAIN);
  signatures.set(3, own);
  const res = await fetch(`${served.url}/epochs/3/signature`);
  assert.equal(res.status, 200);
  const body = (await res.json()) as Record<string, unknown>;
  assert.deepEqual(body, {
    epoch: 3,
    epochRoot: { epoch: "3", root: ROOT.root, total: "1000000000000000000000000", reportHash: ROOT.reportHash, validatorsRoot: ROOT.validatorsRoot },
    signer: KEY.address,
    signature: own.signature,
  });
  const back = parseSignedEpochRoot(body, served.url);
  assert.deepEqual(back, own);
  assert.equal(await recoverEpochRootSigner(back.epochRoot, back.signature, DOMAIN), KEY.address);
});

test("the codec refuses malformed signed roots, naming the source and the field", async () => {
  type Body = Record<string, Record<string, unknown>>;
  const good = JSON.parse(serializeSignedEpochRoot(await signEpochRoot(KEY, ROOT, DOMAIN))) as Body;
  const highS = (sig: Hex): Hex => {
    const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
    const s = n - BigInt(`0x${sig.slice(66, 130)}`);
    return `${sig.slice(0, 66)}${s.toString(16).padStart(64, "0")}${sig.slice(130) === "1b" ? "1c" : "1b"}` as Hex;
  };
  const cases: [(b: Body) => unknown, string][] = [
    [(b) => ({ ...b, epochRoot: { ...b.epochRoot, total: 5 } }), "epochRoot.total"],
    [(b) => ({ ...b, epochRoot: { ...b.epochRoot, epoch: "03" } }), "epochRoot.epoch"],
    [(b) => ({ ...b, epochRoot: { ...b.epochRoot, root: "0x12" } }), "epochRoot.root"],
    [(b) => ({ ...b, epochRoot: { ...b.epochRoot, total: (2n ** 256n).toString() } }), "epochRoot.total"],
    [(b) => ({ ...b, epoch: 4 }), "epoch"],
    [(b) => ({ ...b, signer: "0x12" }), "signer"],
    [(b) => ({ ...b, signature: highS(b.signature as unknown as Hex) }), "signature"],
    [(b) => ({ ...b, epochRoot: null }), "epochRoot"],
  ];
  for (const [tamper, field] of cases) {
    assert.throws(() => parseSignedEpochRoot(tamper(good), "peer-x"), (error: unknown) => {
      assert.ok(error instanceof SignedEpochRootError, String(error));
      assert.deepEqual([error.source, error.field], ["peer-x", field]);
      return true;
    });
  }
});

test("status and Prometheus metrics from the oracle's own registry", async () => {
  status.lastComputed = 3;
  status.lastProposed = 2;
  status.pendingSettlement = 10n;
  assert.deepEqual(await (await fetch(`${served.url}/status`)).json(), { lastComputed: 3, lastProposed: 2, lastSettled: null, pendingSettlement: "10" });

  metrics.epochClosed(3, 120, { bad_signature: 2, duplicate: 1, invalidated: 0 });
  metrics.stage("proposed", 2);
  await metrics.timed("fetch", async () => undefined);
  await assert.rejects(metrics.timed("propose", async () => Promise.reject(new Error("reverted"))));
  metrics.mismatch(["total", "reportHash"]);
  metrics.peerFailure("unreachable");
  const res = await fetch(`${served.url}/metrics`);
  assert.match(res.headers.get("content-type") ?? "", /^text\/plain/);
  const text = await res.text();
  for (const line of [
    "oracle_epochs_closed_total 1",
    'oracle_last_epoch{stage="computed"} 3',
    'oracle_last_epoch{stage="proposed"} 2',
    "oracle_receipts_accepted_total 120",
    'oracle_receipts_dropped_total{reason="bad_signature"} 2',
    'oracle_receipts_dropped_total{reason="duplicate"} 1',
    'oracle_step_duration_seconds_count{step="fetch"} 1',
    'oracle_step_duration_seconds_count{step="propose"} 1',
    'oracle_root_mismatches_total{field="total"} 1',
    'oracle_peer_failures_total{kind="unreachable"} 1',
  ]) {
    assert.ok(text.split("\n").includes(line), `missing: ${line}`);
  }
  assert.ok(!text.includes('reason="invalidated"'), "a zero count adds no series");
  // Two oracles in one process keep separate figures.
  assert.ok((await new OracleMetrics().registry.metrics()).includes("oracle_epochs_closed_total 0"));
});

test("a failing data folder answers 500, never a 404 that would read as not computed", async () => {
  const broken = await serveOracle(
    createOracleServer({
      reportOf: () => Promise.reject(new Error("EIO")),
      signatureOf: () => Promise.reject(new Error("EIO")),
      status: () => status,
      registry: metrics.registry,
    }),
  );
  const original = console.error;
  console.error = () => undefined;
  try {
    assert.equal((await fetch(`${broken.url}/epochs/1/report`)).status, 500);
    assert.equal((await fetch(`${broken.url}/epochs/1/signature`)).status, 500);
  } finally {
    console.error = original;
    await broken.close();
  }
});
