/**
 * What the indexer's tests do on a real local chain, shared by the PGlite and PostgreSQL runs:
 * actions on every contract, a root proposed for a report the test oracle serves, a claim with
 * the indexer's proof, a tampered report, an oracle that is down for a while, and a governance
 * proposal carried through to a parameter change.
 */
import assert from "node:assert/strict";
import { encodeFunctionData, getAddress, keccak256, parseEther, stringToHex, toHex, type Address, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import type { LocalChain } from "../../test/helpers/localChain.ts";
import { signNodeKeyOwnership } from "../../sdk/src/typedData.ts";
import { getJson, graphql, waitForBlock, type ReportServer } from "./fixture.ts";
import { buildReport, epochRootOf, signRoot, type BuiltReport } from "./reports.ts";

export const NODE_KEY = privateKeyToAccount(keccak256(toHex("pod indexer test node key")));
export const MODEL = stringToHex("pod-gpt2-tiny", { size: 32 });

export async function worldOf(chain: LocalChain) {
  const { connection, core } = chain;
  const publicClient = await connection.viem.getPublicClient();
  const [deployer, alice, bob] = await connection.viem.getWalletClients();
  const chainId = await publicClient.getChainId();
  const contracts = {
    protocolParams: getAddress(core.protocolParams.address), rewardsDistributor: getAddress(core.rewardsDistributor.address),
    bondManager: getAddress(core.bondManager.address), nodeRegistry: getAddress(core.nodeRegistry.address),
    creditVault: getAddress(core.creditVault.address), buyback: getAddress(core.buyback.address),
  };
  const head = () => publicClient.getBlockNumber();
  const mined = async (hash: Promise<Hex>) => {
    const receipt = await publicClient.waitForTransactionReceipt({ hash: await hash });
    assert.equal(receipt.status, "success");
    return receipt;
  };
  return { connection, core, publicClient, chainId, contracts, head, mined, deployer: deployer!, alice: getAddress(alice!.account.address), bob: getAddress(bob!.account.address) };
}
export type World = Awaited<ReturnType<typeof worldOf>>;

/** Transfers, delegation, staking, cooldown, bond, unbond, a node, a flag, credit, a withdrawal request, a buyback. */
export async function exerciseContracts(w: World): Promise<void> {
  const { core, mined, alice, bob } = w;
  const pod = core.podToken;
  await mined(pod.write.transfer([alice, parseEther("10000")]));
  await mined(pod.write.transfer([bob, parseEther("500")]));
  await mined(pod.write.delegate([alice], { account: alice }));
  await mined(pod.write.approve([core.stakedPod.address, parseEther("1000")], { account: alice }));
  await mined(core.stakedPod.write.deposit([parseEther("1000"), alice], { account: alice }));
  const shares = await core.stakedPod.read.balanceOf([alice]);
  await mined(core.bondManager.write.bond([shares / 2n], { account: alice }));
  await mined(core.bondManager.write.requestUnbond([shares / 8n], { account: alice }));
  await mined(core.stakedPod.write.cooldown([shares / 4n], { account: alice }));
  const proof = await signNodeKeyOwnership(NODE_KEY, { account: alice, nonce: await core.nodeRegistry.read.keyNonce([NODE_KEY.address]), chainId: w.chainId, registry: core.nodeRegistry.address });
  await mined(core.nodeRegistry.write.registerNode([NODE_KEY.address, [MODEL], "ipfs://indexer-test", proof], { account: alice }));
  await mined(core.nodeReports.write.flagNode([NODE_KEY.address, keccak256(toHex("slow"))], { account: bob }));
  await mined(pod.write.approve([core.creditVault.address, parseEther("100")], { account: alice }));
  await mined(core.creditVault.write.deposit([pod.address, parseEther("100")], { account: alice }));
  await mined(core.creditVault.write.requestWithdrawal([pod.address, parseEther("10")], { account: alice }));
  await mined(pod.write.transfer([core.buyback.address, parseEther("50")]));
  await mined(core.buyback.write.buyBack([pod.address, parseEther("50")], { account: bob }));
}

type AccountRow = { address: string; pod: string; spod: string; podVotes: string; podDelegate: string | null; bonded: string; unbonding: string };

export async function assertContractsIndexed(w: World, url: string): Promise<void> {
  const { core, alice } = w;
  await waitForBlock(url, await w.head());
  const data = await graphql<{
    account: AccountRow;
    stakes: { items: { kind: string; assets: string }[] };
    cooldowns: { items: { account: string; status: string; shares: string }[] };
    bonds: { items: { shares: string }[] };
    unbonds: { items: { kind: string; shares: string }[] };
    nodes: { items: { nodeKey: string; account: string; status: string; models: string[]; flags: number }[] };
    creditDeposits: { items: { amount: string; asset: string }[] };
    withdrawals: { items: { status: string; amount: string }[] };
    buybacks: { items: { kind: string }[] };
    contractEvents: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string } };
  }>(url, `{
    account(address: "${alice}") { address pod spod podVotes podDelegate bonded unbonding }
    stakes(where: { owner: "${alice}" }) { items { kind assets } }
    cooldowns { items { account status shares } }
    bonds(where: { account: "${alice}" }) { items { shares } }
    unbonds(where: { account: "${alice}" }) { items { kind shares } }
    nodes { items { nodeKey account status models flags } }
    creditDeposits { items { amount asset } }
    withdrawals { items { status amount } }
    buybacks(orderBy: "kind") { items { kind } }
    contractEvents(limit: 5) { totalCount pageInfo { hasNextPage endCursor } }
  }`);
  const a = data.account;
  assert.equal(BigInt(a.pod), await core.podToken.read.balanceOf([alice]));
  assert.equal(BigInt(a.spod), await core.stakedPod.read.balanceOf([alice]));
  assert.equal(BigInt(a.podVotes), await core.podToken.read.getVotes([alice]));
  assert.equal(a.podDelegate?.toLowerCase(), alice.toLowerCase());
  const shares = BigInt(data.bonds.items[0]!.shares);
  assert.equal(BigInt(a.bonded), shares - shares / 4n);
  assert.equal(BigInt(a.unbonding), shares / 4n);
  assert.deepEqual(data.stakes.items, [{ kind: "deposit", assets: parseEther("1000").toString() }]);
  assert.equal(data.cooldowns.items[0]?.status, "cooling");
  assert.deepEqual(data.unbonds.items.map((u) => u.kind), ["requested"]);
  assert.deepEqual(data.nodes.items, [{ nodeKey: NODE_KEY.address.toLowerCase(), account: alice.toLowerCase(), status: "active", models: [MODEL], flags: 1 }]);
  assert.deepEqual(data.creditDeposits.items, [{ amount: parseEther("100").toString(), asset: core.podToken.address.toLowerCase() }]);
  assert.deepEqual(data.withdrawals.items, [{ status: "requested", amount: parseEther("10").toString() }]);
  assert.deepEqual(data.buybacks.items.map((b) => b.kind), ["bought", "distributed"]);
  // Every event is recorded, paged.
  const events = await w.publicClient.getLogs({ fromBlock: 0n, toBlock: await w.head() });
  const ours = new Set(Object.values(w.contracts).concat([core.podToken.address, core.stakedPod.address, core.governor.address, core.timelock.address, core.nodeReports.address].map((x) => getAddress(x))));
  assert.equal(data.contractEvents.totalCount, events.filter((e) => ours.has(getAddress(e.address))).length);
  assert.equal(data.contractEvents.pageInfo.hasNextPage, true);
  const next = await graphql<{ contractEvents: { items: unknown[] } }>(url, `{ contractEvents(limit: 5, after: "${data.contractEvents.pageInfo.endCursor}") { items { id } } }`);
  assert.equal(next.contractEvents.items.length, 5);
}

/** Moves chain time to `timestamp` (or one second past the latest block) and mines a block there. */
export async function mineAt(w: World, timestamp: bigint): Promise<void> {
  const latest = (await w.publicClient.getBlock()).timestamp;
  await w.connection.networkHelpers.time.increaseTo(timestamp > latest ? timestamp : latest + 1n);
}

async function epochClose(w: World, epoch: number): Promise<bigint> {
  const [length, genesis] = await w.core.protocolParams.read.epochSchedule();
  return genesis + BigInt(epoch + 1) * length;
}

/** Proposes `built` (or another report hash) for `epoch` once the epoch has closed. */
export async function proposeReport(w: World, epoch: number, built: BuiltReport, reportHash?: Hex): Promise<void> {
  await mineAt(w, await epochClose(w, epoch));
  const epochRoot = epochRootOf(epoch, built, reportHash);
  const signature = await signRoot(epochRoot, w.chainId, w.contracts.rewardsDistributor);
  await w.mined(w.core.rewardsDistributor.write.proposeRoot([epochRoot, [signature]]));
}

type EpochBody = { epoch: number; status: string; root: string; total: string; claimableAt: number; reconciliation: { status: string; reason: string | null; accounts: string[] } };

export async function readEpoch(url: string, epoch: number): Promise<EpochBody> {
  const { status, body } = await getJson(`${url}/epochs/${epoch}`);
  assert.equal(status, 200, JSON.stringify(body));
  return body as EpochBody;
}

/** Epoch 0 pays alice and bob; the indexer reconciles it, serves alice's proof, and the claim is accepted on-chain. */
export async function claimScenario(w: World, url: string, oracle: ReportServer): Promise<BuiltReport> {
  const { core, alice, bob } = w;
  await w.mined(core.podToken.write.transfer([w.contracts.rewardsDistributor, parseEther("1000")]));
  const epoch0 = buildReport({ chainId: w.chainId, epoch: 0, contracts: w.contracts, rewards: new Map([[alice, parseEther("5")], [bob, parseEther("3")]]) });
  oracle.reports.set(0n, epoch0.json);
  await proposeReport(w, 0, epoch0);
  await waitForBlock(url, await w.head());
  const proposed = await readEpoch(url, 0);
  assert.deepEqual({ status: proposed.status, root: proposed.root, total: proposed.total, reconciliation: proposed.reconciliation },
    { status: "proposed", root: epoch0.report.root, total: parseEther("8").toString(), reconciliation: { status: "match", reason: null, accounts: [] } });
  const served = await fetch(`${url}/epochs/0/report`);
  assert.equal(served.headers.get("content-type"), "application/json");
  assert.equal(await served.text(), epoch0.json);
  assert.deepEqual((await getJson(`${url}/claims/${alice}`)).body, { account: alice, epoch: null, root: `0x${"0".repeat(64)}`, cumulative: "0", claimed: "0", claimable: "0", proof: [] });

  await mineAt(w, BigInt(proposed.claimableAt));
  await waitForBlock(url, await w.head());
  assert.equal((await readEpoch(url, 0)).status, "accepted");
  const claim = (await getJson(`${url}/claims/${alice}`)).body as { epoch: number; root: Hex; cumulative: string; claimed: string; claimable: string; proof: Hex[] };
  assert.deepEqual({ ...claim, proof: undefined }, { account: alice, epoch: 0, root: epoch0.report.root, cumulative: parseEther("5").toString(), claimed: "0", claimable: parseEther("5").toString(), proof: undefined });
  const before = await core.podToken.read.balanceOf([alice]);
  await w.mined(core.rewardsDistributor.write.claim([alice, BigInt(claim.cumulative), claim.proof, false], { account: alice }));
  assert.equal((await core.podToken.read.balanceOf([alice])) - before, parseEther("5"));
  await waitForBlock(url, await w.head());
  const after = (await getJson(`${url}/claims/${alice}`)).body as { claimed: string; claimable: string };
  assert.deepEqual([after.claimed, after.claimable], [parseEther("5").toString(), "0"]);
  const claims = await graphql<{ claims: { items: { account: string; amount: string; bonded: boolean }[] } }>(url, `{ claims { items { account amount bonded } } }`);
  assert.deepEqual(claims.claims.items, [{ account: alice.toLowerCase(), amount: parseEther("5").toString(), bonded: false }]);
  assert.equal((await getJson(`${url}/claims/not-an-address`)).status, 400);
  assert.equal((await getJson(`${url}/epochs/7`)).status, 404);
  return epoch0;
}

/**
 * Epoch 1's report says bob earned 2 POD while its leaves and total pay him 1: the hash is the
 * on-chain one, the root rebuilds, yet the indexer marks it mismatch naming bob while the root
 * is still revocable; the guardian revokes it. Then an oracle serving other bytes than the
 * on-chain hash is a mismatch too.
 */
export async function tamperScenario(w: World, url: string, oracle: ReportServer, epoch0: BuiltReport): Promise<void> {
  const { alice, bob } = w;
  const rewards = new Map([[alice, parseEther("2")], [bob, parseEther("1")]]);
  const tampered = buildReport({ chainId: w.chainId, epoch: 1, contracts: w.contracts, previousRoot: epoch0.report.root, previous: epoch0.cumulatives, rewards, tamper: { account: bob, reward: parseEther("2") } });
  oracle.reports.set(1n, tampered.json);
  await proposeReport(w, 1, tampered);
  await waitForBlock(url, await w.head());
  const epoch = await readEpoch(url, 1);
  assert.equal(epoch.status, "proposed");
  assert.equal(epoch.reconciliation.status, "mismatch");
  assert.deepEqual(epoch.reconciliation.accounts, [bob]);
  assert.match(epoch.reconciliation.reason ?? "", new RegExp(bob));
  const viaGraphql = await graphql<{ epoch: { reconciliation: string; mismatchedAccounts: string[]; status: string } }>(url, `{ epoch(epoch: "1") { reconciliation mismatchedAccounts status } }`);
  assert.deepEqual(viaGraphql.epoch, { reconciliation: "mismatch", mismatchedAccounts: [bob.toLowerCase()], status: "proposed" });

  await w.mined(w.core.rewardsDistributor.write.revokeRoot([1n]));
  await waitForBlock(url, await w.head());
  assert.equal((await readEpoch(url, 1)).status, "revoked");

  const honest = buildReport({ chainId: w.chainId, epoch: 1, contracts: w.contracts, previousRoot: epoch0.report.root, previous: epoch0.cumulatives, rewards });
  await proposeReport(w, 1, honest);
  await waitForBlock(url, await w.head());
  const differs = await readEpoch(url, 1);
  assert.equal(differs.reconciliation.status, "mismatch");
  assert.match(differs.reconciliation.reason ?? "", /report hash differs/);
  await w.mined(w.core.rewardsDistributor.write.revokeRoot([1n]));
  oracle.reports.set(1n, honest.json);
}

/** While the oracle is down the epoch stays pending; once it answers, the epoch clock retries and it matches. */
export async function oracleDownScenario(w: World, url: string, oracle: ReportServer, epoch0: BuiltReport): Promise<void> {
  const honest = buildReport({ chainId: w.chainId, epoch: 1, contracts: w.contracts, previousRoot: epoch0.report.root, previous: epoch0.cumulatives, rewards: new Map([[w.alice, parseEther("2")]]) });
  oracle.reports.set(1n, honest.json);
  oracle.setDown(true);
  await proposeReport(w, 1, honest);
  await waitForBlock(url, await w.head());
  assert.equal((await readEpoch(url, 1)).reconciliation.status, "pending");
  oracle.setDown(false);
  for (let i = 0; i < 20 && (await readEpoch(url, 1)).reconciliation.status === "pending"; i++) {
    await w.connection.networkHelpers.mine(5);
    await waitForBlock(url, await w.head());
    await new Promise((r) => setTimeout(r, 500));
  }
  assert.deepEqual((await readEpoch(url, 1)).reconciliation, { status: "match", reason: null, accounts: [] });
}

/** A proposal to change a parameter: created, voted, queued and executed through the timelock. */
export async function governanceScenario(w: World, url: string): Promise<void> {
  const { core, alice } = w;
  const deployer = w.deployer.account.address;
  const name = stringToHex("lambdaUpPpm", { size: 32 });
  const calldata = encodeFunctionData({ abi: core.protocolParams.abi, functionName: "setParameter", args: [name, 600_000n] });
  const description = "Raise lambdaUp to 0.6";
  const descriptionHash = keccak256(toHex(description));
  const args = [[core.protocolParams.address], [0n], [calldata]] as const;
  // The deployer holds the supply: its votes reach the proposal threshold and the quorum.
  await w.mined(core.podToken.write.delegate([deployer]));
  await w.connection.networkHelpers.mine(1);
  await w.mined(core.governor.write.propose([...args, description]));
  const proposalId = await core.governor.read.hashProposal([...args, descriptionHash]);
  await mineAt(w, (await core.governor.read.proposalSnapshot([proposalId])) + 1n);
  await w.mined(core.governor.write.castVote([proposalId, 1]));
  await w.mined(core.governor.write.castVoteWithReason([proposalId, 0, "too fast"], { account: alice }));
  await mineAt(w, (await core.governor.read.proposalDeadline([proposalId])) + 1n);
  await w.mined(core.governor.write.queue([...args, descriptionHash]));
  await mineAt(w, (await core.governor.read.proposalEta([proposalId])) + 1n);
  await w.mined(core.governor.write.execute([...args, descriptionHash]));
  await waitForBlock(url, await w.head());
  const data = await graphql<{
    proposal: { status: string; forVotes: string; againstVotes: string; description: string };
    votes: { items: { voter: string; support: number; reason: string }[] };
    parameterChanges: { items: { name: string; oldValue: string; newValue: string }[] };
  }>(url, `{
    proposal(proposalId: "${proposalId}") { status forVotes againstVotes description }
    votes(orderBy: "support") { items { voter support reason } }
    parameterChanges(where: { kind: "parameter" }) { items { name oldValue newValue } }
  }`);
  const [against, inFavour] = await core.governor.read.proposalVotes([proposalId]);
  assert.deepEqual(data.proposal, { status: "executed", forVotes: inFavour.toString(), againstVotes: against.toString(), description });
  assert.deepEqual(data.votes.items, [{ voter: alice.toLowerCase(), support: 0, reason: "too fast" }, { voter: deployer.toLowerCase(), support: 1, reason: "" }]);
  assert.deepEqual(data.parameterChanges.items.at(-1), { name, oldValue: "500000", newValue: "600000" });
}
