/**
 * The validator service on real samples of the tiny model: honest samples never convict; a node
 * serving substitute weights is convicted within a few samples, its evidence written under its
 * hash, its epochs' invalidations served to the oracle, and (on the in-process Hardhat chain,
 * bob being validator-eligible) reported with a NodeReported event. The cursor survives a restart.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { network } from "hardhat";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { getAddress, parseEventLogs, type Address, type LocalAccount } from "viem";
import { TINY, loadTiny, tinyService } from "../../node/test/fixtures.ts";
import { NodeService, type RunOutput } from "../../node/src/service.ts";
import type { LoadedModel } from "../../node/src/model/load.ts";
import { hashLogprobs, hashTokenIds, signReceipt, type SignedReceipt } from "../../sdk/src/receipt.ts";
import type { EpochSample, EpochSamplesPage } from "../../sdk/src/epochData.ts";
import { nodeReportsAbi } from "../../sdk/src/abi/contracts.ts";
import { deployReports, NODE } from "../../test/helpers/reports.ts";
import { serveOracle } from "../src/cosign/server.ts";
import { fetchInvalidations } from "../src/sources/invalidations.ts";
import { CalibrationTable } from "../src/validate/calibration.ts";
import { readEvidence } from "../src/validate/evidence.ts";
import { Recomputer } from "../src/validate/recompute.ts";
import { ChainReporter, oracleValidatorSet, ValidatorSetMismatch } from "../src/validate/reporter.ts";
import { computeEpoch } from "../src/epoch/compute.ts";
import { initialOracleState } from "../src/epoch/state.ts";
import { CONTRACTS, chainState, nodeKey as epochNodeKey, operator, signedRecord } from "./epoch-fixture.ts";
import { createValidatorServer } from "../src/validate/server.ts";
import { ValidatorService, type ModelValidator, type SampleSource } from "../src/validate/service.ts";
import { FileCursor } from "../src/validate/cursor.ts";
import { fetchSamples, gatewaySource, gatewaysSource, SampleSourceError } from "../src/validate/source.ts";
import { Hono } from "hono";
import OpenAI from "openai";
import { startGateway, until, USD } from "../../gateway/test/fixtures.ts";
import { chainSpeedBounds } from "../src/validate/reporter.ts";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { serializeEpochJson } from "../../sdk/src/epochData.ts";

const CHAIN_ID = 31337;
const OPERATOR = getAddress(privateKeyToAccount(generatePrivateKey()).address);
const SPEED = { minTokensPerSecond: 0.5, maxTokensPerSecond: 5_000 };
const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
const tempDir = async () => {
  const d = await mkdtemp(join(tmpdir(), "pod-validator-service-"));
  dirs.push(d);
  return d;
};

const setup = (async () => {
  const { service, model } = await tinyService();
  const recomputer = await Recomputer.load({ modelId: TINY, folder: model.folder, manifestSha256: model.manifestSha256 }, { provider: "cpu", intraOpThreads: 1 });
  const validator: ModelValidator = { recomputer, tokenizer: model.tokenizer, eosTokenId: model.manifest.eosTokenId, chatFormat: model.manifest.chatFormat };
  return { service, model, models: new Map([[TINY, validator]]) };
})();

type Request = { model: string; prompt: string; max_tokens: number; top_logprobs: number; seed: number };
const request = (i: number): Request => ({ model: TINY, prompt: `Sample ${i}: validators recompute what nodes claim`, max_tokens: 8, top_logprobs: 2, seed: i });

/** The sample the gateway would serve for `out`; `signed` is what the node signed. */
function epochSample(req: Request, out: RunOutput, node: Address, epoch: number, signed: SignedReceipt): EpochSample {
  const { result } = out;
  const { model, prompt, ...params } = req;
  return {
    requestId: result.requestId,
    epoch,
    request: { model, prompt, params },
    responseText: result.text,
    promptTokenIds: result.promptTokenIds,
    outputTokenIds: result.outputTokenIds,
    logprobs: { chosen: result.logprobs.map((l) => l.logprob), top: result.logprobs.map((l) => l.top.map((t) => ({ tokenId: t.tokenId, logprob: t.logprob }))) },
    receipt: {
      requestId: result.requestId,
      epoch,
      model: TINY,
      nodeAddress: node,
      nodeAccount: OPERATOR,
      grantId: `0x${"11".repeat(32)}`,
      account: OPERATOR,
      asset: OPERATOR,
      inputPricePerMTok: 1n,
      outputPricePerMTok: 1n,
      promptTokens: signed.receipt.promptTokens,
      completionTokens: signed.receipt.outputTokens,
      charged: 1n,
      status: "complete",
      signedReceipt: signed,
    },
  };
}

async function honestSamples(count: number, epoch: number): Promise<EpochSample[]> {
  const { service } = await setup;
  const reqs = Array.from({ length: count }, (_, i) => request(100 + i));
  const outs = await Promise.all(reqs.map((r) => service.run(r)));
  return outs.map((out, i) => epochSample(reqs[i]!, out, service.account.address, epoch, out.receipt));
}

/** Samples of a node serving substitute weights and signing them as the approved model. */
async function substituteSamples(node: LocalAccount, count: number, firstEpoch: number): Promise<EpochSample[]> {
  const model: LoadedModel = await loadTiny("substitute");
  const service = new NodeService(node, [model], { maxBatch: 4, maxPrefillTokens: 4096, chainId: CHAIN_ID });
  const samples: EpochSample[] = [];
  for (let i = 0; i < count; i++) {
    const req = { ...request(200 + i), model: model.manifest.modelId };
    const out = await service.run(req);
    const { result } = out;
    const signed = await signReceipt(node, {
      requestId: result.requestId,
      modelId: TINY,
      promptHash: hashTokenIds(result.promptTokenIds),
      outputHash: hashTokenIds(result.outputTokenIds),
      logprobsHash: hashLogprobs(result.logprobs.map((l) => l.logprob)),
      promptTokens: result.promptTokenIds.length,
      outputTokens: result.outputTokenIds.length,
      ...result.timings,
    }, CHAIN_ID);
    samples.push(epochSample({ ...req, model: TINY }, out, node.address, firstEpoch + i, signed));
  }
  return samples;
}

/** A source over a fixed list, paged like the gateway (the cursor is the last index served). */
function listSource(samples: readonly EpochSample[]): SampleSource & { calls: number } {
  return {
    calls: 0,
    async fetch(after, limit): Promise<EpochSamplesPage> {
      this.calls++;
      const start = after === undefined ? 0 : Number(after) + 1;
      const data = samples.slice(start, start + limit);
      return { data, next: data.length === 0 ? (after ?? null) : String(start + data.length - 1) };
    },
  };
}

async function newService(dataDir: string, source: SampleSource, extra: Partial<ConstructorParameters<typeof ValidatorService>[0]> = {}) {
  const { models } = await setup;
  return new ValidatorService({
    source,
    cursor: new FileCursor(dataDir),
    models,
    calibration: new CalibrationTable(),
    speedBounds: async (model) => (model === TINY ? SPEED : null),
    dataDir,
    validator: OPERATOR,
    pageSize: 3,
    ...extra,
  });
}

test("honest samples never convict; the cursor survives a restart, so nothing is validated twice", async () => {
  const dir = await tempDir();
  const samples = await honestSamples(5, 3);
  const service = await newService(dir, listSource(samples));
  assert.equal(await service.drain(), 5);
  const { nodes, skipped } = service.status();
  assert.equal(skipped, 0);
  assert.equal(nodes.length, 1);
  assert.deepEqual([nodes[0]!.samples, nodes[0]!.passes, nodes[0]!.convicted, nodes[0]!.evidenceHash], [5, 5, false, null]);
  const restarted = await newService(dir, listSource(samples));
  assert.equal(await restarted.drain(), 0, "a restart resumes after the saved cursor");
  assert.match(await service.metrics.text(), /validator_samples_total\{result="pass"\} 5/);
});

test("strike records survive a restart: counts continue, a re-read sample counts once, and the second failure after the restart convicts", async () => {
  const dir = await tempDir();
  const cheat = privateKeyToAccount(generatePrivateKey());
  const [honest, bad] = [await honestSamples(5, 3), await substituteSamples(cheat, 2, 3)];
  const first = [...honest.slice(0, 3), bad[0]!];
  const service = await newService(dir, listSource(first));
  assert.equal(await service.drain(), 4);
  const before = service.status().nodes.find((n) => n.node === cheat.address)!;
  assert.deepEqual([before.samples, before.failedSamples, before.convicted], [1, 1, false], "one failing sample never convicts");

  // Restarted with the cursor lost: every sample is read again, none is counted twice.
  await rm(join(dir, "cursor"), { force: true });
  const all = [...first, bad[1]!, ...honest.slice(3)];
  const restarted = await newService(dir, listSource(all));
  assert.equal(await restarted.drain(), 3, "only the three new samples are judged");
  const nodes = restarted.status().nodes;
  const honestNode = nodes.find((n) => n.node !== cheat.address)!;
  const convicted = nodes.find((n) => n.node === cheat.address)!;
  assert.deepEqual([honestNode.samples, honestNode.passes, honestNode.strikes], [5, 5, 0]);
  assert.deepEqual([convicted.samples, convicted.failedSamples, convicted.convicted], [2, 2, true]);
  // Its evidence holds both failing samples, the one judged before the restart included.
  const conviction = restarted.conviction(cheat.address)!;
  const evidence = await readEvidence(conviction.evidencePath, conviction.evidenceHash);
  assert.deepEqual(evidence.samples.map((e) => e.pair.requestId), bad.map((b) => b.requestId));
  // A third start knows the conviction: no second evidence, no new judgement.
  const third = await newService(dir, listSource(all));
  assert.equal(await third.drain(), 0);
  assert.equal(third.conviction(cheat.address)?.evidenceHash, conviction.evidenceHash);
});

test("flagged responses are validated first, count as flagged, and are not judged again when the samples feed reaches them", async () => {
  const dir = await tempDir();
  const cheat = privateKeyToAccount(generatePrivateKey());
  const [honest, bad] = [await honestSamples(4, 3), await substituteSamples(cheat, 2, 3)];
  const fetched: string[] = [];
  const tracked = (name: string, source: SampleSource): SampleSource => ({ fetch: (after, limit) => (fetched.push(name), source.fetch(after, limit)) });
  const service = await newService(dir, tracked("samples", listSource([...honest, ...bad])), {
    flags: tracked("flags", listSource([bad[1]!, honest[3]!])),
    flagsCursor: new FileCursor(dir, "flags-cursor.json"),
  });
  assert.equal(await service.drain(), 6, "six samples, the two flagged ones judged once");
  assert.equal(fetched[0], "flags");
  const nodes = service.status().nodes;
  assert.deepEqual(nodes.map((n) => [n.node === cheat.address ? "cheat" : "honest", n.samples, n.flagged]).sort(), [["cheat", 2, 1], ["honest", 4, 1]]);
  assert.equal(nodes.find((n) => n.node === cheat.address)!.convicted, true);
  // Both cursors were kept: a restart reads nothing again.
  const restarted = await newService(dir, listSource([...honest, ...bad]), { flags: listSource([bad[1]!, honest[3]!]), flagsCursor: new FileCursor(dir, "flags-cursor.json") });
  assert.equal(await restarted.drain(), 0);
});

test("a substitute-weights node is convicted within a few samples; evidence under its hash; invalidations served for its epochs; the NodeReported event on-chain", async (t) => {
  const connection = await network.create();
  try {
    const core = await deployReports(connection);
    const dir = await tempDir();
    const bad = await substituteSamples(NODE, 4, 5);
    const honest = await honestSamples(2, 5);
    const source = listSource([honest[0]!, ...bad, honest[1]!]);
    const reporter = new ChainReporter({
      wallet: core.bob,
      client: core.publicClient,
      nodeReports: core.nr,
      rewardsDistributor: getAddress(core.rewardsDistributor.address),
      validatorSet: async () => [core.a, core.b, core.c],
    });
    const service = await newService(dir, source, { reporter, validator: core.b });
    const served = await serveOracle(createValidatorServer(service, dir));
    try {
      await service.drain();
      const conviction = service.conviction(NODE.address);
      assert.ok(conviction, "the substitute node is convicted");
      const status = service.status().nodes.find((n) => n.node === getAddress(NODE.address))!;
      assert.ok(conviction.samples <= 3 && status.convicted, `convicted after ${conviction.samples} samples`);
      t.diagnostic(`substitute node convicted after ${conviction.samples} samples (log10 P(honest) ${conviction.decision.log10PHonest.toFixed(1)}); epochs invalidated ${conviction.epochs.join(",")}`);
      // Samples after the conviction extend the invalidated epochs: all four bad samples' epochs.
      assert.deepEqual(conviction.epochs, [5, 6, 7, 8]);
      assert.equal(status.failuresByCheck.logprobs, status.failedSamples);
      const honestStatus = service.status().nodes.find((n) => n.node !== getAddress(NODE.address))!;
      assert.equal(honestStatus.convicted, false);

      // Evidence: the file's bytes hash to the name and the reported hash.
      const evidence = await readEvidence(conviction.evidencePath, conviction.evidenceHash);
      assert.equal(evidence.node, getAddress(NODE.address));
      assert.equal(evidence.validator, core.b);
      assert.deepEqual(evidence.epochs, conviction.epochs.slice(0, evidence.epochs.length));

      // Invalidations the oracle reads, for every affected epoch and none other.
      for (const epoch of conviction.epochs) {
        assert.deepEqual(await fetchInvalidations(served.url, epoch), [{ node: getAddress(NODE.address), epoch, evidenceHash: conviction.evidenceHash, reason: conviction.decision.reason }]);
      }
      assert.deepEqual(await fetchInvalidations(served.url, 99), []);

      // On-chain: one NodeReported event by bob with the evidence hash.
      assert.equal(conviction.reportId, 1n);
      assert.equal(status.reportId, "1");
      const logs = await core.publicClient.getLogs({ address: core.nr, fromBlock: 0n });
      const events = parseEventLogs({ abi: nodeReportsAbi, eventName: "NodeReported", logs });
      assert.deepEqual(events.map((e) => e.args), [{ reportId: 1n, nodeKey: core.k, reporter: core.b, account: core.a, evidenceHash: conviction.evidenceHash }]);

      const res = await fetch(`${served.url}/status`);
      assert.equal(((await res.json()) as { nodes: unknown[] }).nodes.length, 2);
      const metrics = await (await fetch(`${served.url}/metrics`)).text();
      assert.match(metrics, /validator_convictions_total 1/);
      assert.match(metrics, /validator_reports_total\{outcome="sent"\} 1/);
    } finally {
      await served.close();
    }
  } finally {
    await connection.close();
  }
});

test("an account outside the validator set convicts and invalidates but does not report", async () => {
  const connection = await network.create();
  try {
    const core = await deployReports(connection);
    const dir = await tempDir();
    const bad = await substituteSamples(NODE, 3, 1);
    const warnings: string[] = [];
    const reporter = new ChainReporter({
      wallet: core.dave,
      client: core.publicClient,
      nodeReports: core.nr,
      rewardsDistributor: getAddress(core.rewardsDistributor.address),
      validatorSet: async () => [core.a, core.b, core.c],
      log: (_level, message) => warnings.push(message),
    });
    const service = await newService(dir, listSource(bad), { reporter, validator: core.d });
    await service.drain();
    const conviction = service.conviction(NODE.address);
    assert.ok(conviction);
    assert.equal(conviction.reportId, null);
    assert.ok(warnings.some((w) => /not a validator/.test(w)), warnings.join("; "));
    assert.equal(await core.nodeReports.read.reportCount(), 0n);

    // A validator set that is not the on-chain root's is refused; the report stays pending.
    const lying = new ChainReporter({ wallet: core.bob, client: core.publicClient, nodeReports: core.nr, rewardsDistributor: getAddress(core.rewardsDistributor.address), validatorSet: async () => [core.b] });
    await assert.rejects(lying.report(NODE.address, conviction.evidenceHash), ValidatorSetMismatch);
  } finally {
    await connection.close();
  }
});

/** A gateway's samples endpoint over `samples` (cursor: the last index served), behind `token`. */
function samplesGateway(samples: readonly EpochSample[], token: string): Hono {
  const app = new Hono();
  app.get("/v1/samples", (c) => {
    if (c.req.header("authorization") !== `Bearer ${token}`) return c.json({ error: "unauthorized" }, 401);
    const after = c.req.query("after");
    const limit = Number(c.req.query("limit"));
    const start = after === undefined ? 0 : Number(after) + 1;
    const data = samples.slice(start, start + limit);
    const next = data.length === 0 ? (after ?? null) : String(start + data.length - 1);
    return c.body(serializeEpochJson({ data, next }), 200, { "content-type": "application/json" });
  });
  return app;
}

test("samples over HTTP: fetchSamples pages with the bearer token; one or two gateways drive the service; a wrong token is an error", async () => {
  const samples = await honestSamples(3, 2);
  const one = await serveOracle(samplesGateway(samples, "t0k"));
  const two = await serveOracle(samplesGateway(samples.slice(0, 1), "t0k"));
  try {
    const page = await fetchSamples({ url: one.url, token: "t0k" }, undefined, 2);
    assert.deepEqual([page.data.map((s) => s.requestId), page.next], [samples.slice(0, 2).map((s) => s.requestId), "1"]);
    assert.equal(page.data[0]!.receipt.charged, 1n);
    await assert.rejects(fetchSamples({ url: one.url, token: "wrong" }, undefined, 2), SampleSourceError);

    const dir = await tempDir();
    const service = await newService(dir, gatewaySource({ url: one.url, token: "t0k" }));
    assert.equal(await service.drain(), 3);
    assert.equal(await service.drain(), 0);
    assert.equal(await new FileCursor(dir).load(), "2");

    const both = await newService(await tempDir(), gatewaysSource([{ url: one.url, token: "t0k" }, { url: two.url, token: "t0k" }]));
    assert.equal(await both.drain(), 3, "the second gateway's copy of a request id is recorded once");
    assert.equal(both.status().nodes[0]!.samples, 3);
  } finally {
    await one.close();
    await two.close();
  }
});

test("the poll loop picks up samples that arrive later and ends when its signal aborts", async () => {
  const samples = await honestSamples(2, 7);
  const arriving: EpochSample[] = [samples[0]!];
  const service = await newService(await tempDir(), listSource(arriving), { pollMs: 20 });
  const controller = new AbortController();
  const running = service.run(controller.signal);
  const until = async (n: number) => {
    for (let i = 0; i < 500 && (service.status().nodes[0]?.samples ?? 0) < n; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(service.status().nodes[0]?.samples, n);
  };
  await until(1);
  arriving.push(samples[1]!);
  await until(2);
  controller.abort();
  await running;
  assert.equal(service.status().cursor, "1");
});

test("the validator set is the oracle's epoch report's validators (GET /epochs/N/report)", async () => {
  const [A, B] = [operator(1), operator(2)];
  const [k0, k1] = [epochNodeKey(0), epochNodeKey(1)];
  const chain = chainState({ nodes: [{ key: k0.address, account: A }, { key: k1.address, account: B }], accounts: { [B]: { bond: 10n ** 21n } } });
  const receipts = [await signedRecord({ key: k0, account: A, requestId: "r1", promptTokens: 10 }), await signedRecord({ key: k1, account: B, requestId: "r2", promptTokens: 30 })];
  const computation = await computeEpoch({ chain, contracts: CONTRACTS, receipts, invalidations: [], previous: initialOracleState() });
  const app = new Hono();
  app.get("/epochs/0/report", (c) => c.body(computation.reportJson, 200, { "content-type": "application/json" }));
  const oracle = await serveOracle(app);
  try {
    assert.deepEqual(await oracleValidatorSet(oracle.url)(0n), computation.validators);
    await assert.rejects(oracleValidatorSet(oracle.url)(1n), /answered 404/);
  } finally {
    await oracle.close();
  }
});

test("end to end with a real gateway and node: GET /v1/samples pages, governed speed bounds from ProtocolParams, every honest sample passes", async () => {
  const gw = await startGateway({ sampling: { salt: "validators-sampling-salt-for-tests", ratePpm: 1_000_000 } });
  try {
    await gw.deposit(gw.core.alice, 1_000n * USD);
    const client = new OpenAI({ apiKey: (await gw.apiKey(gw.core.alice)).key, baseURL: gw.baseURL, maxRetries: 0, timeout: 20_000 });
    await gw.startNode();
    await until("the node in the pool", () => gw.pool.models().length === 1);
    for (let i = 0; i < 4; i++) await client.completions.create({ model: TINY, prompt: `Sample number ${i}`, max_tokens: 4, temperature: 0.8, logprobs: 2 });
    await client.chat.completions.create({ model: TINY, messages: [{ role: "user", content: "Chat" }], max_tokens: 4, seed: 3, logprobs: true, top_logprobs: 2 });
    const dir = await tempDir();
    const service = await newService(dir, gatewaySource({ url: gw.baseURL.replace(/\/v1$/, "") }), {
      speedBounds: chainSpeedBounds(gw.core.publicClient, getAddress(gw.core.protocolParams.address)),
      pageSize: 2,
    });
    assert.equal(await service.drain(), 5);
    const { nodes, skipped, cursor } = service.status();
    assert.equal(skipped, 0);
    assert.deepEqual([nodes[0]!.samples, nodes[0]!.passes, nodes[0]!.convicted], [5, 5, false]);
    // The gateway's last (partial) page names its last seq: the cursor moves past every sample.
    assert.equal(cursor, "5");
    assert.equal(await service.drain(), 0, "nothing new after the last sample");
  } finally {
    await gw.close();
  }
});

// ---------------------------------------------------------------- the command line

const workspace = fileURLToPath(new URL("../../", import.meta.url));
function runCli(args: readonly string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(workspace, "oracle-workers/src/cli.ts"), ...args], { cwd: workspace, env: { PATH: process.env.PATH ?? "", ...env } }, (error, stdout, stderr) =>
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, stdout, stderr }),
    );
  });
}

test("pod-oracle validate --help exits 0 listing its variables; a bad environment exits 1 naming the variable", async () => {
  const help = await runCli(["validate", "--help"], {});
  assert.equal(help.code, 0, help.stderr);
  for (const v of ["POD_RPC_URL", "POD_DEPLOYMENT", "POD_NODE_REPORTS", "POD_VALIDATOR_KEY", "POD_GATEWAYS", "POD_RECEIPTS_TOKEN", "POD_ORACLE_URL", "POD_VALIDATOR_MODELS", "POD_VALIDATOR_DATA_DIR", "POD_VALIDATOR_PORT"]) {
    assert.ok(help.stdout.includes(v), `--help lists ${v}`);
  }
  const base = {
    POD_PROTOCOL_PARAMS: OPERATOR,
    POD_REWARDS_DISTRIBUTOR: OPERATOR,
    POD_NODE_REPORTS: OPERATOR,
    POD_VALIDATOR_KEY: generatePrivateKey(),
    POD_GATEWAYS: "http://127.0.0.1:1",
    POD_ORACLE_URL: "http://127.0.0.1:2",
    POD_VALIDATOR_MODELS: `${TINY}=/nowhere@${"ab".repeat(32)}`,
  };
  const cases: [Record<string, string>, string][] = [
    [{ ...base, POD_GATEWAYS: "" }, "POD_GATEWAYS"],
    [{ ...base, POD_VALIDATOR_MODELS: `${TINY}=/nowhere` }, "POD_VALIDATOR_MODELS"],
    [{ ...base, POD_VALIDATOR_KEY: "0x12" }, "POD_VALIDATOR_KEY"],
    [{ ...base, POD_NODE_REPORTS: "" }, "POD_NODE_REPORTS"],
    [{ ...base, POD_VALIDATOR_PORT: "http" }, "POD_VALIDATOR_PORT"],
  ];
  for (const [env, variable] of cases) {
    const r = await runCli(["validate"], env);
    assert.equal(r.code, 1, `${variable}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`^pod-oracle validate: ${variable}: `), r.stderr);
  }
});
