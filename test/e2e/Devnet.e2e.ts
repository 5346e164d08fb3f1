/**
 * The whole network end to end, as a newcomer meets it: the devnet starts from scratch (its own
 * chain, contracts, indexer, gateway, two operators' nodes, a validator and two oracles as
 * processes on free 127.0.0.1 ports, 20-second epochs); the user deposits credit and makes an
 * API key with the SDK; the official openai client's requests are answered by the nodes; the
 * epoch closes and the indexer serves the operators' proofs; one claims liquid and one bonded with
 * the SDK and balances move by the report's amounts; a governance vote changes a boost parameter
 * and the next epoch's report uses it; then the devnet stops and nothing of it listens.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { createPublicClient, createWalletClient, http, parseEther, type Address, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { hardhat } from "viem/chains";
import { DEVNET_ACCOUNTS } from "../../scripts/devnet/accounts.ts";
import { eventually } from "../helpers/localChain.ts";
import { freePorts, startDevnet, type RunningDevnet } from "../../scripts/devnet/devnet.ts";
import { Progress } from "../../scripts/devnet/progress.ts";
import { bondManagerAbi, podTokenAbi, protocolParamsAbi, stakedPodAbi } from "../../sdk/src/abi/contracts.ts";
import { createPodClient, podContractsFromDevnet, type PodClient } from "../../sdk/src/index.ts";

const ROOT = join(import.meta.dirname, "../..");
const EPOCH_SECONDS = 20;

type ReportAccount = { account: string; cumulative: string; reward: string };
type Report = { epoch: number; closingBlock: number; params: Record<string, unknown>; accounts: ReportAccount[] };

describe("devnet end to end (npm run devnet)", function () {
  this.timeout(420_000);
  let devnet: RunningDevnet | undefined;
  let dir: string;

  before(async function () {
    dir = await mkdtemp(join(tmpdir(), "pod-devnet-e2e-"));
    devnet = await startDevnet({
      root: ROOT,
      dir: join(dir, "state"),
      infoFile: join(dir, "devnet.json"),
      ports: await freePorts(),
      timings: { epochSeconds: EPOCH_SECONDS, challengeSeconds: 0, votingDelay: 1, votingPeriod: 10, timelockDelay: 3 },
      progress: new Progress(),
    });
    console.log(`    devnet up; first request answered ${devnet.firstAnswerSeconds.toFixed(1)} s after the start`);
  });

  after(async function () {
    await devnet?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("serves requests paid by an SDK-made key, pays the operators their report's rewards, applies a governance vote, and stops cleanly", async function () {
    const info = devnet!.info;
    const pod = (privateKey: Hex): PodClient => {
      const account = privateKeyToAccount(privateKey);
      const transport = http(info.rpcUrl);
      return createPodClient({
        publicClient: createPublicClient({ chain: hardhat, transport, pollingInterval: 250 }),
        walletClient: createWalletClient({ account, chain: hardhat, transport, pollingInterval: 250 }),
        deployment: podContractsFromDevnet(info),
        indexerUrl: info.indexerUrl,
      });
    };

    // The user deposits credit and makes an API key with the SDK.
    const user = pod(info.accounts.user.privateKey as Hex);
    await user.depositCredit({ asset: info.contracts.PodToken, amount: parseEther("100") });
    const { apiKey } = await user.issueApiKey({ gateway: info.accounts.gateway.address as Address, asset: info.contracts.PodToken, cap: parseEther("100") });

    // Requests through the official client, at once so both nodes take some.
    const openai = new OpenAI({ baseURL: info.gatewayUrl, apiKey, maxRetries: 0, timeout: 60_000 });
    const answers = await Promise.all(
      Array.from({ length: 16 }, (_, i) => openai.chat.completions.create({ model: info.model, messages: [{ role: "user", content: `hello ${i}` }], max_tokens: 6, seed: i })),
    );
    for (const answer of answers) {
      assert.equal(answer.choices[0]?.finish_reason === "length" || answer.choices[0]?.finish_reason === "stop", true);
      assert.ok((answer.usage?.completion_tokens ?? 0) > 0);
    }
    const lastWorkEpoch = await currentEpoch(user);

    // The epoch closes, the oracles propose its root, and the indexer serves the proofs.
    const operators = info.accounts.operators.map((o) => ({ ...o, pod: pod(o.privateKey as Hex) }));
    const claims = await eventually(`claims of epoch ${lastWorkEpoch} or later`, async () => {
      const all = await Promise.all(operators.map((o) => o.pod.fetchClaim()));
      return all.every((c) => c.epoch !== null && c.epoch >= lastWorkEpoch && c.claimable > 0n) ? all : undefined;
    }, 150_000, 500);
    const report = await fetchReport(info.oracleUrls[0]!, claims[0]!.epoch!);
    for (const [i, claim] of claims.entries()) {
      const row = report.accounts.find((a) => a.account.toLowerCase() === operators[i]!.address.toLowerCase());
      assert.ok(row !== undefined, `operator ${i + 1} is in epoch ${report.epoch}'s report`);
      assert.equal(claim.cumulative, BigInt(row.cumulative), `operator ${i + 1}: the indexer's cumulative is the report's`);
    }

    // Operator 2 claims liquid POD; operator 1 (bonded) claims bonded sPOD.
    const [bonded, liquid] = operators;
    const podBefore = await balance(liquid!.pod, info.contracts.PodToken, liquid!.address as Address);
    const liquidClaim = await liquid!.pod.claimRewards();
    assert.equal(liquidClaim.amount, claims[1]!.cumulative);
    assert.equal((await balance(liquid!.pod, info.contracts.PodToken, liquid!.address as Address)) - podBefore, claims[1]!.cumulative, "liquid POD moved by the report's amount");

    const bondedBefore = await bonded!.pod.publicClient.readContract({ address: info.contracts.BondManager, abi: bondManagerAbi, functionName: "activeShares", args: [bonded!.address as Address] });
    const bondedClaim = await bonded!.pod.claimRewards({ asBonded: true });
    assert.equal(bondedClaim.amount, claims[0]!.cumulative);
    assert.ok(bondedClaim.bonus > 0n, "the bonded claim earns the governed bonus");
    const bondedAfter = await bonded!.pod.publicClient.readContract({ address: info.contracts.BondManager, abi: bondManagerAbi, functionName: "activeShares", args: [bonded!.address as Address] });
    const addedValue = await bonded!.pod.publicClient.readContract({ address: info.contracts.StakedPod, abi: stakedPodAbi, functionName: "convertToAssets", args: [bondedAfter - bondedBefore] });
    assert.ok(addedValue + 1n >= bondedClaim.amount + bondedClaim.bonus && addedValue <= bondedClaim.amount + bondedClaim.bonus, `bonded sPOD worth the claim plus bonus (${addedValue} vs ${bondedClaim.amount + bondedClaim.bonus})`);

    // A governance vote raises baseBoostMaxPpm; the next epoch's report uses it.
    const voter = pod(DEVNET_ACCOUNTS.deployer.privateKey);
    const NEW_VALUE = 250_000n;
    assert.equal(String(report.params.baseBoostMaxPpm), "200000");
    const { proposal } = await voter.proposeParameterChange({ changes: [{ name: "baseBoostMaxPpm", value: NEW_VALUE }], description: "Raise the base boost to 25%" });
    await eventually("voting to open", async () => ((await voter.getProposalState({ proposalId: proposal.proposalId })).state === "active" ? true : undefined), 60_000, 500);
    await voter.castVote({ proposalId: proposal.proposalId, support: "for" });
    await eventually("the vote to succeed", async () => ((await voter.getProposalState({ proposalId: proposal.proposalId })).state === "succeeded" ? true : undefined), 60_000, 500);
    const { etaSeconds } = await voter.queueProposal({ proposal });
    await eventually("the timelock delay", async () => ((await voter.publicClient.getBlock()).timestamp >= etaSeconds ? true : undefined), 60_000, 500);
    const executed = await voter.executeProposal({ proposal });
    const executedAt = (await voter.publicClient.getBlock({ blockNumber: executed.receipt.blockNumber })).timestamp;

    const nextEpoch = Number((executedAt - (await epochGenesis(voter))) / BigInt(EPOCH_SECONDS));
    const next = await eventually(`epoch ${nextEpoch}'s report`, () => fetchReport(info.oracleUrls[0]!, nextEpoch).catch(() => undefined), 120_000, 500);
    assert.equal(String(next.params.baseBoostMaxPpm), String(NEW_VALUE), "the report after the vote uses the new value");

    // Ctrl-C's path: every process stops and no port stays open.
    const ports = [info.rpcUrl, info.gatewayUrl, info.indexerUrl, ...info.oracleUrls, info.validatorUrl].map((u) => Number(new URL(u).port));
    await devnet!.stop();
    for (const port of ports) assert.equal(await listening(port), false, `port ${port} is closed after stop()`);
  });
});

async function currentEpoch(pod: PodClient): Promise<number> {
  const now = (await pod.publicClient.getBlock()).timestamp;
  return Number((now - (await epochGenesis(pod))) / BigInt(EPOCH_SECONDS));
}

async function epochGenesis(pod: PodClient): Promise<bigint> {
  const [, genesis] = await pod.publicClient.readContract({ address: pod.contracts.protocolParams, abi: protocolParamsAbi, functionName: "epochSchedule" });
  return genesis;
}

async function balance(pod: PodClient, token: Address, account: Address): Promise<bigint> {
  return pod.publicClient.readContract({ address: token, abi: podTokenAbi, functionName: "balanceOf", args: [account] });
}

async function fetchReport(oracleUrl: string, epoch: number): Promise<Report> {
  const response = await fetch(`${oracleUrl}/epochs/${epoch}/report`, { signal: AbortSignal.timeout(5_000) });
  if (!response.ok) throw new Error(`no report for epoch ${epoch} yet (HTTP ${response.status})`);
  return (await response.json()) as Report;
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
