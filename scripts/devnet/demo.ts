/**
 * `npm run demo`: against a running devnet (devnet.json), sends chat requests through the
 * official `openai` client with the devnet's API key, waits for their epoch to close and its
 * rewards root to be co-signed, proposed and reconciled, then shows each operator's rewards as
 * the indexer serves them (claimable now, with the proof `claim` takes).
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import OpenAI from "openai";
import { createPublicClient, formatEther, http, type Address } from "viem";
import { protocolParamsAbi } from "../../sdk/src/abi/contracts.ts";
import type { DevnetInfo } from "./devnet.ts";
import { Progress } from "./progress.ts";

const HELP = `Usage: npm run demo [-- --requests <n>] [-- --devnet <devnet.json>]

Needs a running devnet (npm run devnet). Sends chat requests (one streamed) with the openai client
through the gateway, waits for their epoch's rewards root (proposed by the oracles, checked by
the indexer), and prints what each operator can claim.`;

type EpochView = { status: string; reconciliation: { status: string; reason: string | null } };
type ClaimView = { epoch: number | null; cumulative: string; claimed: string; claimable: string; proof: string[] };

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { requests: { type: "string", default: "8" }, devnet: { type: "string", default: join(import.meta.dirname, "../../devnet.json") }, help: { type: "boolean", short: "h", default: false } } });
  if (values.help) return void console.log(HELP);
  const info = JSON.parse(await readFile(values.devnet, "utf8").catch(() => {
    throw new Error(`no ${values.devnet}: start the devnet first (npm run devnet)`);
  })) as DevnetInfo;
  const client = new OpenAI({ baseURL: info.gatewayUrl, apiKey: info.apiKey, maxRetries: 1, timeout: 60_000 });
  const progress = new Progress();

  console.log(`Chat through ${info.gatewayUrl} (model ${info.model}):`);
  const prompts = ["What is POD Network?", "Name a colour.", "Count to three.", "Say hello.", "Tell me a fact."];
  const count = Number(values.requests);
  if (!Number.isInteger(count) || count < 1) throw new Error(`--requests must be a positive integer, got ${values.requests}`);
  // Sent at once, so the gateway spreads them over both operators' nodes.
  const started = performance.now();
  const answers = await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const answer = await client.chat.completions.create({ model: info.model, messages: [{ role: "user", content: prompts[i % prompts.length]! }], max_tokens: 24, seed: i });
      return { answer, ms: performance.now() - started };
    }),
  );
  for (const [i, { answer, ms }] of answers.entries()) {
    console.log(`  ${i + 1}. ${JSON.stringify(answer.choices[0]?.message.content ?? "")} (${answer.usage?.completion_tokens} tokens, answered after ${ms.toFixed(0)} ms)`);
  }
  process.stdout.write("  streamed: ");
  const stream = await client.chat.completions.create({ model: info.model, messages: [{ role: "user", content: "Stream me a sentence." }], max_tokens: 24, stream: true, stream_options: { include_usage: true } });
  for await (const chunk of stream) {
    process.stdout.write(chunk.choices[0]?.delta.content ?? "");
    if (chunk.usage) process.stdout.write(`  (${chunk.usage.completion_tokens} tokens)\n`);
  }

  const chain = createPublicClient({ transport: http(info.rpcUrl) });
  const [length, genesis] = await chain.readContract({ address: info.contracts.ProtocolParams, abi: protocolParamsAbi, functionName: "epochSchedule" });
  const now = (await chain.getBlock()).timestamp;
  const epoch = Number((now - genesis) / length);
  const closesAt = Number(genesis + BigInt(epoch + 1) * length);
  const view = await progress.step(`epoch ${epoch}: closing, co-signing, proposing, reconciling`, async (detail) => {
    for (;;) {
      const left = closesAt - Math.floor(Date.now() / 1000);
      const current = await getJson<EpochView>(`${info.indexerUrl}/epochs/${epoch}`);
      if (current !== undefined && current.status === "accepted" && current.reconciliation.status !== "pending") return current;
      detail(left > 0 ? `closes in ${left} s` : current === undefined ? "waiting for the oracles' root" : `root ${current.status}, reconciliation ${current.reconciliation.status}`);
      await new Promise((r) => setTimeout(r, 1_000));
    }
  });
  progress.stop();
  console.log(`Epoch ${epoch}: root ${view.status}, report reconciled by the indexer: ${view.reconciliation.status}${view.reconciliation.reason ? ` (${view.reconciliation.reason})` : ""}`);
  console.log("Operators' rewards (from the indexer's /claims):");
  for (const [i, operator] of info.accounts.operators.entries()) {
    const claim = await getJson<ClaimView>(`${info.indexerUrl}/claims/${operator.address as Address}`);
    if (claim === undefined) throw new Error(`the indexer has no claim view for ${operator.address}`);
    console.log(`  operator ${i + 1} ${operator.address}${operator.bonded ? " (bonded)" : ""}: cumulative ${formatEther(BigInt(claim.cumulative))} POD, claimed ${formatEther(BigInt(claim.claimed))}, claimable now ${formatEther(BigInt(claim.claimable))} POD (proof of ${claim.proof.length} hashes)`);
  }
}

async function getJson<T>(url: string): Promise<T | undefined> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5_000) }).catch(() => undefined);
  if (response === undefined || !response.ok) return undefined;
  return (await response.json()) as T;
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
