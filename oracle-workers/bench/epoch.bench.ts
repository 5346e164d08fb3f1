/**
 * `npm run bench:epoch`: the time of computeEpoch (screening with real signature checks, work,
 * base split, engine, trees, report) for 1k and 100k receipts over 50 accounts with 3 node keys
 * each. Receipts are signed before the timing, in worker threads (this file is also the signing
 * worker). Prints figures; asserts only that every receipt was accepted and that the fast
 * signature check agrees with the SDK's verifyReceipt on a sample.
 *
 * Options (environment): EPOCH_BENCH_SIZES=1000,100000   EPOCH_BENCH_WORKERS=<threads for checks>
 */
import { availableParallelism, cpus, loadavg } from "node:os";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { secp256k1 } from "@noble/curves/secp256k1";
import { getAddress, toHex, type Address, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import type { EpochReceipt } from "../../sdk/src/epochData.ts";
import { verifyReceipt, type Receipt } from "../../sdk/src/receipt.ts";
import { computeEpoch } from "../src/epoch/compute.ts";
import { receiptDigest } from "../../sdk/src/receiptCheck/digest.ts";
import { initialOracleState } from "../src/epoch/state.ts";
import type { AccountAtClose, EpochChainState, NodeAtClose } from "../src/epoch/types.ts";
import { verifyReceiptSignatures } from "../src/epoch/verify.ts";
import { DEFAULT_REWARD_PARAMS } from "../../sdk/src/rewardParams.ts";

const ACCOUNTS = 50;
const KEYS_PER_ACCOUNT = 3;
const CHAIN_ID = 31337;
const POD = 10n ** 18n;
const MODELS = ["pod-gpt2-tiny", "pod-gpt2-small"];
const privateKey = (i: number): Hex => toHex(0x5eed0000 + i, { size: 32 });
const accountOf = (key: number): Address => getAddress(toHex(0xacc0000 + Math.floor(key / KEYS_PER_ACCOUNT), { size: 20 }));

type SignJob = { from: number; to: number; keys: number };

/** The receipt fields of request j (deterministic). */
function receiptFields(j: number, node: Address): Receipt {
  const h = (k: number): Hex => toHex(BigInt(j) * 3n + BigInt(k), { size: 32 });
  return {
    requestId: `req-${j.toString().padStart(7, "0")}`, modelId: MODELS[j % MODELS.length]!, node,
    promptHash: h(0), outputHash: h(1), logprobsHash: h(2),
    promptTokens: 50 + (j % 400), outputTokens: 20 + (j % 300), startedAt: 1_800_000_000_000 + j, firstTokenMs: 30, totalMs: 900,
  };
}

/** Signs requests [from, to) the way viem's signTypedData does (RFC 6979, low s, v = 27 + recovery). */
function signRange(job: SignJob): { receipt: Receipt; signature: Hex }[] {
  const nodes = Array.from({ length: job.keys }, (_, i) => ({ key: privateKey(i).slice(2), address: privateKeyToAccount(privateKey(i)).address }));
  const out: { receipt: Receipt; signature: Hex }[] = [];
  for (let j = job.from; j < job.to; j++) {
    const node = nodes[j % job.keys]!;
    const receipt = receiptFields(j, node.address);
    const sig = secp256k1.sign(receiptDigest(receipt, CHAIN_ID), node.key, { lowS: true });
    const signature = `0x${sig.r.toString(16).padStart(64, "0")}${sig.s.toString(16).padStart(64, "0")}${(27 + sig.recovery).toString(16)}` as Hex;
    out.push({ receipt, signature });
  }
  return out;
}

if (!isMainThread) {
  parentPort!.postMessage(signRange(workerData as SignJob));
} else {
  await main();
}

async function signAll(count: number, keys: number): Promise<{ receipt: Receipt; signature: Hex }[]> {
  const threads = Math.max(1, Math.min(availableParallelism(), Math.ceil(count / 1_000)));
  const size = Math.ceil(count / threads);
  const parts = await Promise.all(
    Array.from({ length: threads }, (_, i) =>
      new Promise<{ receipt: Receipt; signature: Hex }[]>((resolve, reject) => {
        const job: SignJob = { from: i * size, to: Math.min(count, (i + 1) * size), keys };
        const worker = new Worker(new URL(import.meta.url), { workerData: job });
        worker.once("message", (m: { receipt: Receipt; signature: Hex }[]) => {
          resolve(m);
          void worker.terminate();
        });
        worker.once("error", reject);
      }),
    ),
  );
  return parts.flat();
}

function chainFor(keys: readonly Address[]): EpochChainState {
  const nodes = new Map<Address, NodeAtClose>();
  const accounts = new Map<Address, AccountAtClose>();
  keys.forEach((key, i) => {
    nodes.set(key, { account: accountOf(i), active: true, suspended: false, banned: false });
    accounts.set(accountOf(i), { bond: BigInt(i % 7) * 10_000n * POD, registered: true, suspended: false });
  });
  return {
    chainId: CHAIN_ID, epoch: 0, closesAt: 1_800_086_400n, block: { number: 1_000n, hash: toHex(0xb10c, { size: 32 }), timestamp: 1_800_086_399n },
    params: DEFAULT_REWARD_PARAMS, emissionBudget: 100_000n * POD, modelWeights: new Map([[MODELS[0]!, 1_000_000], [MODELS[1]!, 2_500_000]]),
    nodes, accounts,
  };
}

function toRecords(signed: readonly { receipt: Receipt; signature: Hex }[]): EpochReceipt[] {
  return signed.map(({ receipt, signature }, j) => ({
    requestId: receipt.requestId, epoch: 0, model: receipt.modelId, nodeAddress: receipt.node, nodeAccount: accountOf(j % (ACCOUNTS * KEYS_PER_ACCOUNT)),
    grantId: toHex(j % 97, { size: 32 }), account: getAddress(toHex(0xc11e00 + (j % 31), { size: 20 })), asset: getAddress(toHex(0xa55e7, { size: 20 })),
    inputPricePerMTok: 100_000n, outputPricePerMTok: 300_000n, promptTokens: receipt.promptTokens, completionTokens: receipt.outputTokens,
    charged: 1_000n, status: "complete", signedReceipt: { receipt, chainId: CHAIN_ID, signature },
  }));
}

async function main(): Promise<void> {
  const sizes = (process.env.EPOCH_BENCH_SIZES ?? "1000,100000").split(",").map(Number);
  const workersEnv = process.env.EPOCH_BENCH_WORKERS;
  const verify = workersEnv === undefined ? {} : { workers: Number(workersEnv) };
  const keyCount = ACCOUNTS * KEYS_PER_ACCOUNT;
  console.log(`epoch bench: ${cpus().length} CPUs (${cpus()[0]?.model ?? "?"}), load ${loadavg().map((l) => l.toFixed(1)).join(" ")}, Node ${process.version}`);
  console.log(`${ACCOUNTS} accounts x ${KEYS_PER_ACCOUNT} node keys; signature checks on ${workersEnv ?? `up to ${availableParallelism()}`} worker threads`);

  const largest = Math.max(...sizes);
  let t = performance.now();
  const signed = await signAll(largest, keyCount);
  console.log(`signed ${largest} receipts in ${((performance.now() - t) / 1000).toFixed(1)} s (not timed below)`);
  const records = toRecords(signed);
  const chain = chainFor([...new Set(records.slice(0, keyCount).map((r) => r.nodeAddress))]);

  // Sanity: the SDK agrees on a sample, and its own per-receipt cost for comparison.
  const sample = records.slice(0, 300).map((r) => r.signedReceipt!);
  t = performance.now();
  const sdkCpu = process.cpuUsage();
  for (const s of sample) if (!(await verifyReceipt(s, { chainId: CHAIN_ID })).valid) throw new Error("bench receipt does not verify");
  const sdkMs = (performance.now() - t) / sample.length;
  const sdkUsed = process.cpuUsage(sdkCpu);
  const sdkCpuMs = (sdkUsed.user + sdkUsed.system) / 1000 / sample.length;
  const fast = await verifyReceiptSignatures(sample, { workers: 1 });
  if (!fast.every(Boolean)) throw new Error("fast check disagrees with verifyReceipt");
  console.log(`SDK verifyReceipt: ${sdkMs.toFixed(2)} ms wall, ${sdkCpuMs.toFixed(2)} ms CPU per receipt, one thread (${Math.round(1000 / sdkMs)} receipts/s)`);

  for (const size of sizes) {
    const receipts = records.slice(0, size).reverse(); // not in canonical order
    for (const run of [1, 2]) {
      t = performance.now();
      const cpu = process.cpuUsage();
      const result = await computeEpoch({ chain, contracts: contracts(), receipts, invalidations: [], previous: initialOracleState() }, { verify });
      const seconds = (performance.now() - t) / 1000;
      const used = process.cpuUsage(cpu);
      const cpuSeconds = (used.user + used.system) / 1e6; // every thread of the process, workers included
      if (result.accepted !== size) throw new Error(`accepted ${result.accepted} of ${size}: ${JSON.stringify(result.dropped)}`);
      t = performance.now();
      await verifyReceiptSignatures(receipts.map((r) => r.signedReceipt!), verify);
      const sigSeconds = (performance.now() - t) / 1000;
      console.log(
        `computeEpoch ${size} receipts (run ${run}): ${seconds.toFixed(2)} s wall, ${Math.round(size / seconds)} receipts/s; ` +
          `${cpuSeconds.toFixed(2)} s CPU (${Math.round(size / cpuSeconds)} receipts per CPU-second); ` +
          `signature checks alone ${sigSeconds.toFixed(2)} s; report ${(result.reportJson.length / 1024).toFixed(0)} KiB`,
      );
      if (size >= 50_000) break; // one run of the large size is enough
    }
  }
}

function contracts() {
  const at = (n: number) => getAddress(toHex(0xa0 + n, { size: 20 }));
  return { protocolParams: at(1), rewardsDistributor: at(2), bondManager: at(3), nodeRegistry: at(4), creditVault: at(5), buyback: at(6) };
}
