/**
 * Reconciliation's checks on their own: a consistent report matches; a changed reward, a leaf
 * that does not follow from the previous epoch, a total above the budget or a root the leaves do
 * not rebuild are mismatches naming what is wrong; oracles serving other bytes or nothing.
 */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { after, before, describe, test } from "node:test";
import { getAddress, parseEther, type Address } from "viem";
import { serializeEpochReport, epochReportHash } from "../../sdk/src/epochReport.ts";
import { freePort } from "../../test/helpers/localChain.ts";
import { checkEpochReport, cumulativesOf, fetchEpochReport, type OnchainEpoch } from "../lib/reconcile.ts";
import { buildReport, type BuiltReport } from "./reports.ts";

const address = (n: number): Address => getAddress(`0x${n.toString(16).padStart(40, "0")}`);
const CONTRACTS = { protocolParams: address(1), rewardsDistributor: address(2), bondManager: address(3), nodeRegistry: address(4), creditVault: address(5), buyback: address(6) };
const ALICE = address(0xa11ce);
const BOB = address(0xb0b);

const onchainOf = (built: BuiltReport, epoch: number): OnchainEpoch => ({ epoch: BigInt(epoch), root: built.report.root, total: built.report.total, reportHash: built.hash, validatorsRoot: built.report.validatorsRoot });

describe("checking a report", () => {
  const epoch0 = buildReport({ chainId: 31337, epoch: 0, contracts: CONTRACTS, rewards: new Map([[ALICE, parseEther("5")], [BOB, parseEther("3")]]) });
  const previous = cumulativesOf(epoch0.report);
  const rewards1 = new Map([[ALICE, parseEther("2")]]);

  test("a consistent report matches, for the first epoch and the next", () => {
    assert.deepEqual({ ...checkEpochReport(epoch0.json, onchainOf(epoch0, 0), new Map(), undefined), report: undefined }, { status: "match", reason: null, accounts: [], report: undefined });
    const epoch1 = buildReport({ chainId: 31337, epoch: 1, contracts: CONTRACTS, previousRoot: epoch0.report.root, previous: epoch0.cumulatives, rewards: rewards1 });
    assert.equal(checkEpochReport(epoch1.json, onchainOf(epoch1, 1), previous, epoch0.report.root).status, "match");
  });

  test("one reward changed: the sums fail and the account is named", () => {
    const tampered = buildReport({ chainId: 31337, epoch: 1, contracts: CONTRACTS, previousRoot: epoch0.report.root, previous: epoch0.cumulatives, rewards: rewards1, tamper: { account: ALICE, reward: parseEther("3") } });
    const result = checkEpochReport(tampered.json, onchainOf(tampered, 1), previous, epoch0.report.root);
    assert.equal(result.status, "mismatch");
    assert.deepEqual(result.accounts, [ALICE]);
    assert.match(result.reason ?? "", /add up to/);
  });

  test("a leaf that does not follow from the previous epoch is named, though the root rebuilds", () => {
    // Bob's cumulative grows without any reward this epoch.
    const grown = buildReport({ chainId: 31337, epoch: 1, contracts: CONTRACTS, previousRoot: epoch0.report.root, previous: new Map([[ALICE, parseEther("5")], [BOB, parseEther("4")]]), rewards: rewards1 });
    const result = checkEpochReport(grown.json, onchainOf(grown, 1), previous, epoch0.report.root);
    assert.deepEqual([result.status, result.accounts], ["mismatch", [BOB]]);
  });

  test("a root the leaves do not rebuild, a total above the budget, a wrong previous root", () => {
    const other = buildReport({ chainId: 31337, epoch: 0, contracts: CONTRACTS, rewards: new Map([[ALICE, 1n]]) });
    const wrongRoot = checkEpochReport(epoch0.json, { ...onchainOf(epoch0, 0), root: other.report.root }, new Map(), undefined);
    assert.match(wrongRoot.reason ?? "", /leaves rebuild root/);
    const overBudget = serializeEpochReport({ ...epoch0.report, params: { ...epoch0.report.params, emissionBudget: 1n } });
    assert.match(checkEpochReport(overBudget, { ...onchainOf(epoch0, 0), reportHash: epochReportHash(overBudget) }, new Map(), undefined).reason ?? "", /above the emission budget/);
    const epoch1 = buildReport({ chainId: 31337, epoch: 1, contracts: CONTRACTS, previousRoot: other.report.root, previous: epoch0.cumulatives, rewards: rewards1 });
    assert.match(checkEpochReport(epoch1.json, onchainOf(epoch1, 1), previous, epoch0.report.root).reason ?? "", /previousRoot/);
    assert.match(checkEpochReport("{}", onchainOf(epoch0, 0), new Map(), undefined).reason ?? "", /does not parse/);
  });
});

describe("fetching a report from the oracles", () => {
  const served = new Map<string, string>();
  let base = "";
  const server = createServer((request, response) => {
    const body = served.get(request.url ?? "");
    if (body === undefined) response.writeHead(404).end();
    else response.writeHead(200).end(body);
  });
  before(async () => {
    const port = await freePort();
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const report = buildReport({ chainId: 31337, epoch: 3, contracts: CONTRACTS, rewards: new Map([[ALICE, 1n]]) });

  test("the first oracle with the on-chain bytes wins; another's bytes alone are 'differs'; none is 'unavailable'", async () => {
    served.set("/a/epochs/3/report", `${report.json} `);
    served.set("/b/epochs/3/report", report.json);
    const found = await fetchEpochReport([`${base}/a`, `${base}/b`], 3n, report.hash);
    assert.deepEqual(found, { kind: "found", report: { body: report.json, source: `${base}/b/epochs/3/report` } });
    const differs = await fetchEpochReport([`${base}/a`], 3n, report.hash);
    assert.equal(differs.kind, "differs");
    const unavailable = await fetchEpochReport([`${base}/c`, "http://127.0.0.1:1"], 3n, report.hash, 1_000);
    assert.equal(unavailable.kind, "unavailable");
    assert.equal((await fetchEpochReport([], 3n, report.hash)).kind, "unavailable");
  });
});
