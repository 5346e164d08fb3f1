/**
 * `npm run bench:validators`: honest and dishonest worker nodes side by side behind one real
 * gateway (in-process chain, PGlite store, sampling at 100%), user traffic through the OpenAI
 * API, and a ValidatorService reading the gateway's /v1/samples as it would in production.
 *
 * Phase 1 serves every node until each dishonest node is convicted (a convicted node is taken
 * out, as a ban would) or has had MAX_DISHONEST_SAMPLES samples. Phase 2 serves honest nodes
 * only, at changing concurrency, until HONEST_SAMPLES honest samples were validated. It prints
 * the confusion table: per node its kind, samples, failures, conviction and the samples it took.
 *
 * Env: POD_BENCH_HONEST_SAMPLES (default 1000), POD_BENCH_MAX_TOKENS (default 8).
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { getAddress, stringToHex, type Address, type LocalAccount } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { signNodeKeyOwnership } from "../../sdk/src/typedData.ts";
import { GatewayClient } from "../../node/src/gateway/client.ts";
import type { NodeService } from "../../node/src/service.ts";
import { NodeService as HonestService } from "../../node/src/service.ts";
import { TINY, tinyModelFolder } from "../../node/test/fixtures.ts";
import { loadModel } from "../../node/src/model/load.ts";
import type { ModelVariant } from "../../node/src/model/build.ts";
import { startGateway, USD } from "../../gateway/test/fixtures.ts";
import { actAsTimelock, SAMPLE_MODEL_PARAMS } from "../../test/helpers/unit.ts";
import { CalibrationTable } from "../src/validate/calibration.ts";
import { Recomputer } from "../src/validate/recompute.ts";
import { chainSpeedBounds } from "../src/validate/reporter.ts";
import { ValidatorService } from "../src/validate/service.ts";
import { gatewaySource } from "../src/validate/source.ts";
import type { NodeStatus } from "../src/validate/status.ts";
import { DISHONEST_KINDS, dishonestService, type BenchModels, type DishonestKind } from "./dishonest/nodes.ts";

const HONEST_SAMPLES = Number(process.env.POD_BENCH_HONEST_SAMPLES ?? 1000);
const MAX_TOKENS = Number(process.env.POD_BENCH_MAX_TOKENS ?? 8);
const MAX_DISHONEST_SAMPLES = 40;
const MAX_BACKLOG = 48;
/** Honest nodes by engine batch size: the gateway sends each as many concurrent jobs as it takes. */
const HONEST_BATCHES = [1, 2, 4, 8];
/**
 * Governed decode speed of the tiny model in the bench (tokens/s of one request). Eleven nodes,
 * the gateway, the chain and the validator share one process and two busy cores: an honest
 * request at concurrency 16 was seen at 1.2 tokens/s, so the minimum is the smallest whole one.
 */
const SPEED_BOUNDS = { minTokensPerSecond: 1, maxTokensPerSecond: 5_000 };

type BenchNode = { label: string; kind: "honest" | DishonestKind; address: Address; service: NodeService; client: GatewayClient; removed: boolean };

const started = performance.now();
const elapsed = () => ((performance.now() - started) / 1000).toFixed(1);
const say = (line: string) => process.stdout.write(`[${elapsed().padStart(6)} s] ${line}\n`);

say("starting the chain, the gateway (sampling 100%) and the models");
// Chain reads cached for a minute, as a production gateway does: the bench measures validation.
const gw = await startGateway({ sampling: { salt: randomBytes(32).toString("hex"), ratePpm: 1_000_000 }, chainCacheMs: 60_000 });
const { core, chainId } = gw;
const timelock = await actAsTimelock(gw.connection, core);
await core.protocolParams.write.setModelParams([stringToHex(TINY, { size: 32 }), { ...SAMPLE_MODEL_PARAMS, ...SPEED_BOUNDS }], { account: timelock });

// One inference thread per node: eleven nodes share the machine's cores.
const loadTiny = async (variant: ModelVariant) => loadModel(await tinyModelFolder(variant), { provider: "cpu", intraOpThreads: 1 });
const approved = await loadTiny("base");
const loadModels = async (): Promise<BenchModels> => ({ approved: await loadTiny("base"), substitute: await loadTiny("substitute"), perturbed: await loadTiny("perturbed") });
const nodes: BenchNode[] = [];

async function startNode(label: string, kind: BenchNode["kind"], make: (key: LocalAccount, models: BenchModels) => NodeService): Promise<void> {
  const key = privateKeyToAccount(generatePrivateKey());
  const nonce = await core.nodeRegistry.read.keyNonce([key.address]);
  const proof = await signNodeKeyOwnership(key, { account: core.alice.account.address, nonce, chainId, registry: core.nodeRegistry.address });
  await core.nodeRegistry.write.registerNode([key.address, [stringToHex(TINY, { size: 32 })], "ipfs://bench", proof], { account: core.alice.account });
  const service = make(key, await loadModels());
  const client = new GatewayClient(service, { url: gw.baseURL.replace(/^http/, "ws") + "/nodes/ws", nodeVersion: "bench", calibratedTokensPerSecond: 100, statusIntervalMs: 60_000, reconnectMinMs: 50, reconnectMaxMs: 200 });
  const ready = new Promise<void>((resolve) => (client.onStateChange = (state) => state === "ready" && resolve()));
  client.start();
  await ready;
  nodes.push({ label, kind, address: getAddress(key.address), service, client, removed: false });
}

for (const maxBatch of HONEST_BATCHES) {
  await startNode(`honest, batch ${maxBatch}`, "honest", (key, models) => new HonestService(key, [models.approved], { maxBatch, maxPrefillTokens: 4096, chainId }));
}
for (const kind of DISHONEST_KINDS) await startNode(kind, kind, (key, models) => dishonestService(kind, key, models, { maxBatch: 4, maxPrefillTokens: 4096, chainId }));
say(`${nodes.length} nodes serving ${TINY}: ${HONEST_BATCHES.length} honest (batch ${HONEST_BATCHES.join(", ")}), ${DISHONEST_KINDS.length} dishonest`);

await gw.deposit(core.bob, 1_000n * USD);
const { key: apiKey } = await gw.apiKey(core.bob, { cap: 1_000n * USD });

const convictedNow: Address[] = [];
const dataDir = await mkdtemp(join(tmpdir(), "pod-validator-bench-"));
const recomputer = await Recomputer.load({ modelId: TINY, folder: approved.folder, manifestSha256: approved.manifestSha256 }, { provider: "cpu", intraOpThreads: 1 });
const validator = new ValidatorService({
  source: gatewaySource({ url: gw.baseURL.replace(/\/v1$/, "") }),
  models: new Map([[TINY, { recomputer, tokenizer: approved.tokenizer, eosTokenId: approved.manifest.eosTokenId, chatFormat: approved.manifest.chatFormat }]]),
  calibration: new CalibrationTable(),
  speedBounds: chainSpeedBounds(core.publicClient, getAddress(core.protocolParams.address)),
  dataDir,
  validator: getAddress(core.carol.account.address),
  chainId,
  pageSize: 32,
  // A conviction takes the node out of service at once, as the ban after confirmation would.
  log: (_level, message, fields) => {
    if (message === "node convicted" && typeof fields?.node === "string") convictedNow.push(getAddress(fields.node));
  },
});

// ---------------------------------------------------------------- traffic

const PROMPTS = ["Tell me about the sea.", "What is a validator?", "Write a haiku about rain", "Explain batching in one line", "List three colours", "Why is the sky blue?", "Translate 'hello' to French", "Count to five"];
let requestsDone = 0;
let requestsFailed = 0;
let sent = 0;

/** A varied user request: chat or completion, greedy or sampled (top_p, top_k), seeded or not. */
function requestBody(i: number): { path: string; body: Record<string, unknown> } {
  const prompt = PROMPTS[i % PROMPTS.length]!;
  const temperature = [0, 0.7, 1, 1.3][i % 4]!;
  const sampling = { max_tokens: MAX_TOKENS, temperature, ...(i % 3 === 0 ? { top_p: 0.9 } : {}), ...(i % 5 === 0 ? { top_k: 40 } : {}), ...(i % 2 === 0 ? { seed: i } : {}) };
  if (i % 2 === 0) return { path: "/chat/completions", body: { model: TINY, messages: [{ role: "user", content: prompt }], logprobs: true, top_logprobs: 3, ...sampling } };
  return { path: "/completions", body: { model: TINY, prompt, logprobs: 3, ...sampling } };
}

async function sendOne(): Promise<void> {
  const { path, body } = requestBody(sent++);
  try {
    const res = await fetch(gw.baseURL + path, { method: "POST", headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" }, body: JSON.stringify(body) });
    await res.arrayBuffer();
    if (res.ok) requestsDone++;
    else requestsFailed++;
  } catch {
    requestsFailed++;
  }
}

/** Keeps `concurrency()` requests in flight until `done()`. */
async function drive(concurrency: () => number, done: () => boolean): Promise<void> {
  const inFlight = new Set<Promise<void>>();
  while (!done()) {
    await removeConvicted();
    // Users wait for the validator no more than the gateway does: traffic pauses while over
    // MAX_BACKLOG samples wait, so the figures measure validation, not a queue.
    const backlog = requestsDone - validatedCount();
    while (inFlight.size < concurrency() && !done() && backlog < MAX_BACKLOG) {
      const p = sendOne().finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    await Promise.race([...inFlight, new Promise((r) => setTimeout(r, 50))]);
  }
  await Promise.all(inFlight);
}

// ---------------------------------------------------------------- validation loop

/** The failing checks of the evidence's first sample, as the evidence states them. */
async function firstFailure(path: string): Promise<string> {
  const bundle = JSON.parse(await readFile(path, "utf8")) as { samples: { verdict: { results: { check: string; pass: boolean; detail: string }[] } }[] };
  return (bundle.samples[0]?.verdict.results ?? []).filter((r) => !r.pass).map((r) => `${r.check}: ${r.detail}`).join("; ");
}

const statusOf = (address: Address): NodeStatus | undefined => validator.status().nodes.find((n) => n.node === address);
let validating = true;
let validatorError: unknown;
const validatorLoop = (async () => {
  while (validating) {
    try {
      await validator.drain();
    } catch (error) {
      validatorError = error;
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
})();

/** Takes convicted nodes out and says why they were convicted (polled: drain() may run long). */
async function removeConvicted(): Promise<void> {
  while (convictedNow.length > 0) {
    const address = convictedNow.shift()!;
    for (const node of nodes) {
      if (node.address === address && !node.removed) {
        node.removed = true;
        const c = validator.conviction(node.address)!;
        say(`convicted ${node.label} after ${c.samples} samples: ${c.decision.reason}`);
        say(`  first failure: ${await firstFailure(c.evidencePath)}`);
        void node.client.leave("convicted");
      }
    }
  }
}

const validatedCount = () => validator.status().nodes.reduce((s, n) => s + n.samples, 0) + validator.status().skipped;
const honestNodes = nodes.filter((n) => n.kind === "honest");
const dishonestNodes = nodes.filter((n) => n.kind !== "honest");
const honestSamples = () => honestNodes.reduce((sum, n) => sum + (statusOf(n.address)?.samples ?? 0), 0);
const dishonestSettled = () => dishonestNodes.every((n) => n.removed || (statusOf(n.address)?.samples ?? 0) >= MAX_DISHONEST_SAMPLES);

const progress = setInterval(() => {
  const convicted = nodes.filter((n) => validator.conviction(n.address) !== undefined).length;
  say(`requests ${requestsDone} ok / ${requestsFailed} failed, honest samples validated ${honestSamples()}, convictions ${convicted}, set aside ${validator.status().skipped}`);
}, 10_000);

say("phase 1: every node serves; the validator reads /v1/samples as they arrive");
await drive(() => 8, () => dishonestSettled() || validatorError !== undefined);
for (const node of dishonestNodes) {
  if (!node.removed) {
    node.removed = true;
    await node.client.leave("bench phase 2");
  }
}
// The router fills the node with the most free slots first: at 15 in flight every honest node
// (batch 1 + 2 + 4 + 8) is full, at 1 or 4 the larger ones batch less.
say("phase 2: honest nodes only, concurrency cycling 1, 4, 8, 15 every 5 s");
const phase2 = performance.now();
const levels = [1, 4, 8, 15];
await drive(() => levels[Math.floor((performance.now() - phase2) / 5_000) % levels.length]!, () => honestSamples() >= HONEST_SAMPLES || validatorError !== undefined);
// Let the validator catch up with the last samples.
const deadline = Date.now() + 60_000;
while (Date.now() < deadline && validatedCount() < requestsDone) await new Promise((r) => setTimeout(r, 200));
validating = false;
await validatorLoop;
await removeConvicted();
clearInterval(progress);
if (validatorError !== undefined) throw validatorError;

// ---------------------------------------------------------------- report

const rows = nodes.map((n) => {
  const s = statusOf(n.address);
  const c = validator.conviction(n.address);
  const failed = s === undefined ? "" : Object.entries(s.failuresByCheck).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${v}`).join(", ");
  const batch = n.service.engineFor(TINY).counters.maxDecodeBatch;
  return { kind: n.label, samples: String(s?.samples ?? 0), failed: String(s?.failedSamples ?? 0), convicted: c !== undefined ? "yes" : "no", toConvict: c === undefined ? "-" : String(c.samples), log10P: s === undefined ? "-" : s.log10PHonest.toFixed(1), batch: String(batch), checks: failed || "-" };
});
const header = { kind: "node", samples: "samples", failed: "failed", convicted: "convicted", toConvict: "samples to convict", log10P: "log10 P(honest)", batch: "max batch", checks: "failed checks (samples)" };
const widths = Object.fromEntries(Object.keys(header).map((k) => [k, Math.max(...[header, ...rows].map((r) => String(r[k as keyof typeof header]).length))])) as Record<keyof typeof header, number>;
const line = (r: typeof header) => "| " + (Object.keys(header) as (keyof typeof header)[]).map((k) => String(r[k]).padEnd(widths[k])).join(" | ") + " |";
process.stdout.write("\n" + line(header) + "\n" + "|" + (Object.keys(header) as (keyof typeof header)[]).map((k) => "-".repeat(widths[k] + 2)).join("|") + "|\n");
for (const r of rows) process.stdout.write(line(r) + "\n");

const dishonestConvicted = dishonestNodes.filter((n) => validator.conviction(n.address) !== undefined);
const honestConvicted = honestNodes.filter((n) => validator.conviction(n.address) !== undefined);
const within20 = dishonestNodes.filter((n) => (validator.conviction(n.address)?.samples ?? Infinity) <= 20);
const totalSamples = validator.status().nodes.reduce((s, n) => s + n.samples, 0);
process.stdout.write(
  `\nconfusion: dishonest convicted ${dishonestConvicted.length}/${dishonestNodes.length} (within 20 samples: ${within20.length}), ` +
    `honest convicted ${honestConvicted.length}/${honestNodes.length} over ${honestSamples()} honest samples (false positives: ${honestConvicted.length})\n` +
    `requests ${requestsDone} ok, ${requestsFailed} failed; samples validated ${totalSamples}, set aside ${validator.status().skipped}; ` +
    `max_tokens ${MAX_TOKENS}; ${elapsed()} s in all (${(totalSamples / ((performance.now() - started) / 1000)).toFixed(1)} samples/s)\n`,
);

await Promise.all(nodes.filter((n) => !n.removed).map((n) => n.client.leave("bench over")));
await gw.close();
await rm(dataDir, { recursive: true, force: true });
const ok = dishonestConvicted.length === dishonestNodes.length && within20.length === dishonestNodes.length && honestConvicted.length === 0 && honestSamples() >= HONEST_SAMPLES;
process.stdout.write(ok ? "targets met\n" : "TARGETS MISSED\n");
process.exit(ok ? 0 : 1);
