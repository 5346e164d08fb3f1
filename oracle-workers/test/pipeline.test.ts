/**
 * The epoch pipeline end to end on an in-process Hardhat chain: requests through a gateway and
 * two real worker nodes of two operators, epochs closing, two oracles co-signing, the root accepted
 * after the challenge window, one operator claiming liquid and the other bonded, usage settled and
 * the buyback run; then a crash right after each step (the oracle restarted on its data folder)
 * posts and settles nothing twice; a gateway down delays the epoch; two oracles that disagree
 * post nothing; and once a quorum posts, the dissenting oracle stops.
 */
import assert from "node:assert/strict";
import { cp, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { serve } from "@hono/node-server";
import { getAddress, type Address, type Hex } from "viem";
import { grantIdOf } from "../../sdk/src/apiKey.ts";
import { until } from "../../gateway/test/fixtures.ts";
import { paramName } from "../../test/helpers/fixture.ts";
import { freePort } from "../../test/helpers/ports.ts";
import { ProposalConflict } from "../src/chain/propose.ts";
import { CumulativeRewardTree } from "../../sdk/src/merkle/tree.ts";
import { parseEpochReport } from "../../sdk/src/epochReport.ts";
import type { PipelineStep } from "../src/pipeline/epoch.ts";
import { EpochFiles } from "../src/pipeline/files.ts";
import { startPipelineWorld, type PipelineWorld } from "./pipelineFixture.ts";

const POD = 10n ** 18n;
let world: PipelineWorld;
let apiKey: string;
let grantId: Hex;
let alice: Address;
let bob: Address;
const dataDirs: string[] = [];

before(async () => {
  world = await startPipelineWorld();
  const { core, gw } = world;
  alice = getAddress(core.alice.account.address);
  bob = getAddress(core.bob.account.address);
  const pod = getAddress(core.podToken.address);
  await core.podToken.write.approve([gw.vault, 1_000n * POD], { account: core.carol.account });
  await core.creditVault.write.deposit([pod, 1_000n * POD], { account: core.carol.account });
  const made = await gw.apiKey(core.carol, { asset: pod, cap: 1_000n * POD, expiry: BigInt(Math.floor(Date.now() / 1000)) + 365n * 86_400n });
  apiKey = made.key;
  grantId = grantIdOf(made.grant);
});

after(async () => {
  await world?.close();
});

/** Awaits `work`, failing with the oracles' recent logs when it takes longer than `ms`. */
async function within<T>(ms: number, what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done in ${ms} ms; last logs:\n${world.logs.slice(-15).map((l) => `${l.oracle} ${l.level} ${l.message} ${JSON.stringify(l.fields ?? {}, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v))}`).join("\n")}`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function reportOf(dataDir: string, epoch: number) {
  const json = await new EpochFiles(dataDir).readReport(epoch);
  assert.ok(json !== null, `epoch ${epoch} has a report in ${dataDir}`);
  return { json, report: parseEpochReport(json) };
}

async function rootsProposed(epoch: number): Promise<number> {
  const events = await world.core.rewardsDistributor.getEvents.RootProposed({ epoch: BigInt(epoch) }, { fromBlock: 0n });
  return events.length;
}

async function settlements(epoch: number): Promise<number> {
  const events = await world.core.creditVault.getEvents.UsageSettled({}, { fromBlock: 0n });
  return events.filter((e) => e.args.epoch === BigInt(epoch)).length;
}

/** Everything charged to the grant through `epoch`, as the gateway recorded it. */
async function chargedThrough(epoch: number): Promise<bigint> {
  const usage = await world.gw.store.usageByGrant(epoch);
  return usage.find((u) => u.grantId.toLowerCase() === grantId.toLowerCase())?.cumulative ?? 0n;
}

test("an epoch from requests to claims: two oracles co-sign, usage settles, the buyback runs, claims pay the report's amounts", async () => {
  const { core, connection, gw } = world;
  // Both nodes registered before the epoch; whichever served first then leaves, so both operators work.
  const nodes = [await gw.startNode(core.alice), await gw.startNode(core.bob)];
  await until("both nodes in the pool", () => gw.pool.models()[0]?.nodes === 2);
  const epoch = await world.beginEpoch();
  await world.chat(apiKey, 6);
  const served = (await gw.store.receiptsOfEpoch(epoch, { limit: 10 })).items[0]?.nodeAddress;
  const first = nodes.find((n) => n.key.address === served);
  assert.ok(first !== undefined, "a test node served the first requests");
  await first.client.leave("the test moves on to the other node");
  await until("one node left in the pool", () => gw.pool.models()[0]?.nodes === 1);
  await world.chat(apiKey, 6);
  await world.closeEpoch(epoch);

  const [a, b] = [await world.oracle(0, { lastEpoch: epoch }), await world.oracle(1, { lastEpoch: epoch })];
  dataDirs.push(a.dataDir, b.dataDir);
  world.connectPeers();
  await within(120_000, "both oracles through the epoch", Promise.all([a.done, b.done]));
  await Promise.all([a.stop(), b.stop()]);

  const ours = await reportOf(a.dataDir, epoch);
  const theirs = await reportOf(b.dataDir, epoch);
  assert.equal(ours.json, theirs.json, "both oracles wrote the same report, byte for byte");
  const { report } = ours;
  for (let e = 0; e <= epoch; e++) assert.equal(await rootsProposed(e), 1, `epoch ${e} proposed once`);
  const record = await core.rewardsDistributor.read.epochRecord([BigInt(epoch)]);
  assert.equal(record.root, report.root);
  assert.equal(BigInt(record.total), report.total);

  const accounts = new Map(report.accounts.map((acc) => [getAddress(acc.account), acc]));
  assert.ok((accounts.get(alice)?.work ?? 0n) > 0n && (accounts.get(bob)?.work ?? 0n) > 0n, `both operators did work: ${ours.json.slice(0, 3000)}`);
  assert.ok(report.total > 0n);

  // Usage settled once, for exactly what the gateway charged; the POD revenue was bought back.
  const charged = await chargedThrough(epoch);
  assert.ok(charged > 0n);
  assert.equal(await core.creditVault.read.spentOf([grantId]), charged);
  assert.equal(await settlements(epoch), 1);
  const distributed = await core.buyback.getEvents.BuybackDistributed({ fromBlock: 0n });
  assert.equal(distributed.length, 1, "the buyback split the POD revenue");

  // After the challenge window: alice claims liquid, bob bonded, by the report's leaves.
  const window = await core.protocolParams.read.getParameter([paramName("rootChallengeWindow")]);
  await connection.networkHelpers.time.increase(window + 1n);
  const tree = CumulativeRewardTree.build(report.leaves.map((l) => ({ account: l.account, cumulativeReward: l.cumulative })));
  const aliceCumulative = accounts.get(alice)?.cumulative as bigint;
  const bobCumulative = accounts.get(bob)?.cumulative as bigint;
  const podBefore = await core.podToken.read.balanceOf([alice]);
  await core.rewardsDistributor.write.claim([alice, aliceCumulative, tree.proofFor(alice) as Hex[], false], { account: core.alice.account });
  assert.equal((await core.podToken.read.balanceOf([alice])) - podBefore, aliceCumulative, "alice is paid her cumulative exactly");

  const sharesBefore = await core.bondManager.read.bondedShares([bob]);
  await core.rewardsDistributor.write.claim([bob, bobCumulative, tree.proofFor(bob) as Hex[], true], { account: core.bob.account });
  const [bonded] = await core.rewardsDistributor.getEvents.BondedRewardsClaimed({ account: bob }, { fromBlock: 0n });
  assert.equal(bonded?.args.amount, bobCumulative, "bob's bonded claim is his cumulative");
  const bonus = (bobCumulative * (await core.protocolParams.read.getParameter([paramName("bondedClaimBonusPpm")]))) / 1_000_000n;
  assert.equal(bonded?.args.bonus, bonus);
  const sharesAdded = (await core.bondManager.read.bondedShares([bob])) - sharesBefore;
  const bondedValue = await core.stakedPod.read.convertToAssets([sharesAdded]);
  assert.ok(bobCumulative + bonus - bondedValue <= 1n, `bob's bond grew by his reward and bonus (${bondedValue} for ${bobCumulative + bonus})`);
});

const CRASHES: readonly PipelineStep[] = ["computed", "signed", "proposed", "settled", "boughtBack"];

test("a crash right after each step: the restarted oracle resumes, nothing is posted or settled twice", async () => {
  const [dirA, dirB] = dataDirs as [string, string];
  for (const step of CRASHES) {
    const epoch = await world.beginEpoch();
    await world.chat(apiKey, 4);
    await world.closeEpoch(epoch);

    let crashed = false;
    let first: Awaited<ReturnType<PipelineWorld["oracle"]>> | undefined;
    const hooks = {
      afterStep: async (e: number, s: PipelineStep) => {
        if (crashed || e !== epoch || s !== step) return;
        crashed = true;
        void first?.stop();
        throw new Error(`simulated crash after ${s}`);
      },
    };
    const b = await world.oracle(1, { dataDir: dirB, lastEpoch: epoch });
    first = await world.oracle(0, { dataDir: dirA, lastEpoch: epoch, hooks });
    // Only oracle 0 collects signatures until it crashed, so it is the one that posts.
    first.setPeers([b.url]);
    await within(60_000, `oracle 0 crashing after ${step}`, first.done);
    assert.ok(crashed, `oracle 0 crashed after ${step}`);
    const restarted = await world.oracle(0, { dataDir: dirA, lastEpoch: epoch });
    world.connectPeers([restarted, b]);
    await within(60_000, `both oracles after the crash after ${step}`, Promise.all([restarted.done, b.done]));
    await Promise.all([restarted.stop(), b.stop()]);

    for (let e = 0; e <= epoch; e++) assert.equal(await rootsProposed(e), 1, `epoch ${e}: one root proposed (crash after ${step})`);
    assert.ok((await settlements(epoch)) <= 1, `epoch ${epoch}: settled at most once`);
    assert.equal(await world.core.creditVault.read.spentOf([grantId]), await chargedThrough(epoch), `epoch ${epoch}: settled exactly what was charged`);
    assert.equal((await reportOf(dirA, epoch)).json, (await reportOf(dirB, epoch)).json);
  }
});

test("a gateway that is down delays the epoch; once it answers, nothing is lost and nothing counted twice", async () => {
  const [dirA, dirB] = dataDirs as [string, string];
  const epoch = await world.beginEpoch();
  await world.chat(apiKey, 4);
  await world.closeEpoch(epoch);
  // A second gateway URL with nothing listening yet; later a proxy of the real gateway answers there,
  // so the oracles see every receipt twice and must count each once.
  const port = await freePort();
  const gateways = [world.gw.baseURL.replace(/\/v1$/, ""), `http://127.0.0.1:${port}`];
  const a = await world.oracle(0, { dataDir: dirA, lastEpoch: epoch, gateways });
  const b = await world.oracle(1, { dataDir: dirB, lastEpoch: epoch, gateways });
  world.connectPeers([a, b]);
  await until("the oracles waiting on the gateway", () => world.logs.some((l) => l.level === "warn" && JSON.stringify(l.fields ?? {}).includes(String(port))), 30_000);
  assert.equal(await world.core.rewardsDistributor.read.nextEpoch(), BigInt(epoch), "nothing is proposed while a gateway is down");

  const proxy = serve({ fetch: (req) => fetch(world.gw.baseURL.replace(/\/v1$/, "") + new URL(req.url).pathname + new URL(req.url).search), hostname: "127.0.0.1", port });
  try {
    await within(60_000, "both oracles once the gateway answers", Promise.all([a.done, b.done]));
  } finally {
    await Promise.all([a.stop(), b.stop()]);
    await new Promise<void>((resolve) => proxy.close(() => resolve()));
  }
  const { report } = await reportOf(dirA, epoch);
  const served = (await world.gw.store.receiptsOfEpoch(epoch, { limit: 100 })).items.length;
  assert.equal(report.receipts.accepted, served, "every receipt counted");
  assert.equal(report.receipts.dropped.duplicate, served, "the second copy of each dropped as a duplicate");
  assert.equal(await rootsProposed(epoch), 1);
  assert.equal(await world.core.creditVault.read.spentOf([grantId]), await chargedThrough(epoch), "usage settled once");
});

test("two oracles that disagree post nothing, and say which account differs", async () => {
  const [dirA, dirB] = dataDirs as [string, string];
  const epoch = await world.beginEpoch();
  await world.chat(apiKey, 4);
  await world.closeEpoch(epoch);
  // Oracle 1 alone was told by a validator that the serving node cheated this epoch.
  const served = (await world.gw.store.receiptsOfEpoch(epoch, { limit: 100 })).items[0];
  assert.ok(served !== undefined, "a node served this epoch");
  const invalidations = await mkdtemp(join(tmpdir(), "pod-invalidations-"));
  await writeFile(join(invalidations, "v.json"), JSON.stringify({ invalidations: [{ node: served.nodeAddress, epoch, evidenceHash: `0x${"ab".repeat(32)}`, reason: "test" }] }));
  const a = await world.oracle(0, { dataDir: dirA, lastEpoch: epoch });
  const b = await world.oracle(1, { dataDir: dirB, lastEpoch: epoch, invalidationsDir: invalidations });
  world.connectPeers([a, b]);
  await until("a loud disagreement", () => world.logs.some((l) => l.oracle === 0 && l.message.startsWith("ORACLE DISAGREEMENT")), 30_000);
  await Promise.all([a.stop(), b.stop()]);
  assert.equal(await world.core.rewardsDistributor.read.nextEpoch(), BigInt(epoch), "nothing was proposed for the epoch");
  const loud = world.logs.find((l) => l.oracle === 0 && l.message.startsWith("ORACLE DISAGREEMENT"));
  assert.match(JSON.stringify(loud?.fields), new RegExp(served.nodeAccount.slice(2), "i"), "the log names the account that differs");
});

test("the quorum's root goes on-chain; the oracle that computed another one stops loudly", async () => {
  const [dirA, dirB] = dataDirs as [string, string];
  const epoch = Number(await world.core.rewardsDistributor.read.nextEpoch());
  // Oracle 2 takes over oracle 1's seat with oracle 0's history (a copy of its data folder, less
  // the disputed epoch): it recomputes that epoch and agrees with oracle 0.
  const dirC = await mkdtemp(join(tmpdir(), "pod-oracle-2-"));
  await cp(dirA, dirC, { recursive: true });
  await rm(join(dirC, "epochs", String(epoch)), { recursive: true, force: true });
  const a = await world.oracle(0, { dataDir: dirA, lastEpoch: epoch });
  const c = await world.oracle(2, { dataDir: dirC, lastEpoch: epoch });
  world.connectPeers([a, c]);
  await within(60_000, "oracles 0 and 2 through the epoch", Promise.all([a.done, c.done]));
  await Promise.all([a.stop(), c.stop()]);
  assert.equal(await rootsProposed(epoch), 1);
  assert.equal((await reportOf(dirA, epoch)).json, (await reportOf(dirC, epoch)).json, "oracle 2 recomputes the same report");

  // Oracle 1 still holds the report with the invalidated node: it refuses to go on.
  const b = await world.oracle(1, { dataDir: dirB, lastEpoch: epoch });
  await assert.rejects(within(30_000, "oracle 1 stopping", b.done), (error: unknown) => error instanceof ProposalConflict && error.fields.includes("root"));
  await b.stop();
  assert.ok(world.logs.some((l) => l.oracle === 1 && l.level === "error" && l.message.startsWith("stopping:")));
});
