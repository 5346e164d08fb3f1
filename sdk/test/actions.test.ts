/**
 * Credit, API keys, staking, bonds, nodes and the account reads of the SDK against PodDevnet on
 * an in-process chain: each action moves real balances and emits real events, and each revert
 * reaches the caller as the contract's custom error with its arguments.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { network } from "hardhat";
import type { NetworkConnection } from "hardhat/types/network";
import { getAddress, keccak256, parseEther, toHex, type Address } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { parseApiKey, verifyApiKey } from "../src/apiKey.ts";
import { podContracts } from "../src/client.ts";
import { PodConfigError } from "../src/errors.ts";
import { registryModelId } from "../src/modelId.ts";
import { deployCore, type Core } from "../../test/helpers/fixture.ts";
import { addressOf, podFor, rejectsWith } from "./actionsFixture.ts";

const USD = 10n ** 6n;
let connection: NetworkConnection;
let deploy: () => Promise<Core>;

before(async () => {
  connection = await network.create();
  deploy = () => deployCore(connection);
});
after(async () => {
  await connection.close();
});

const fresh = () => connection.networkHelpers.loadFixture(deploy);
const increaseTo = (ts: bigint) => connection.networkHelpers.time.increaseTo(ts);

describe("SDK contracts", () => {
  test("reads Ignition's deployed_addresses keys, PodCore and PodDevnet modules alike", () => {
    const address = (n: number) => getAddress(`0x${n.toString(16).padStart(40, "0")}`);
    const names = ["PodCore#PodToken", "PodCore#StakedPod", "PodCore#BondManager", "PodDevnet#NodeRegistry", "PodDevnet#CreditVault", "PodDevnet#Buyback", "PodDevnet#RewardsDistributor", "PodCore#ProtocolParams", "PodCore#PodGovernor", "PodCore#PodTimelock", "PodDevnet#NodeReports", "PodDevnet#DevStablecoin", "PodDevnet#SecurityTimelock"];
    const contracts = podContracts(new Map(names.map((name, i) => [name, address(i + 1)])));
    assert.equal(contracts.governor, address(9));
    assert.equal(contracts.timelock, address(10));
    assert.equal(contracts.stablecoin, address(12));
    assert.throws(() => podContracts(new Map([["PodCore#PodToken", address(1)]])), PodConfigError);
  });
});

describe("SDK credit and API keys", () => {
  test("deposits POD and the stablecoin, approving first; a short balance is ERC20InsufficientBalance", async () => {
    const core = await fresh();
    const pod = podFor(core, core.alice);
    const me = addressOf(core.alice);
    const deposited = await pod.depositCredit({ asset: core.podToken.address, amount: parseEther("100") });
    assert.ok(deposited.approvalHash !== undefined);
    assert.deepEqual([deposited.account, deposited.amount, deposited.receipt.status], [me, parseEther("100"), "success"]);
    assert.equal(await core.creditVault.read.creditOf([me, core.podToken.address]), parseEther("100"));

    await core.stablecoin.write.mint([me, 50n * USD]);
    await pod.depositCredit({ asset: core.stablecoin.address, amount: 20n * USD, account: addressOf(core.bob) });
    assert.equal(await core.creditVault.read.creditOf([addressOf(core.bob), core.stablecoin.address]), 20n * USD);

    // Found before approving (nothing is sent), then as the token's own revert once approved.
    const balance = await core.podToken.read.balanceOf([me]);
    const nonce = await core.publicClient.getTransactionCount({ address: me });
    const early = await rejectsWith(pod.depositCredit({ asset: core.podToken.address, amount: balance + 1n }), "ERC20InsufficientBalance");
    assert.deepEqual(early.args, [me, balance, balance + 1n]);
    assert.equal(await core.publicClient.getTransactionCount({ address: me }), nonce);
    await core.podToken.write.approve([core.creditVault.address, balance + 1n], { account: core.alice.account });
    const error = await rejectsWith(pod.depositCredit({ asset: core.podToken.address, amount: balance + 1n }), "ERC20InsufficientBalance");
    assert.deepEqual([error.contract, error.functionName, error.args], ["CreditVault", "deposit", [me, balance, balance + 1n]]);
    assert.equal(error.namedArgs.needed, balance + 1n);
    await rejectsWith(pod.depositCredit({ asset: core.podToken.address, amount: 1n, account: "0x0000000000000000000000000000000000000000" }), "ZeroAddress");
  });

  test("withdraws credit after the delay; early is WithdrawalNotReady, none pending is NoPendingWithdrawal", async () => {
    const core = await fresh();
    const pod = podFor(core, core.alice);
    const asset = core.podToken.address;
    await pod.depositCredit({ asset, amount: parseEther("10") });
    const requested = await pod.requestCreditWithdrawal({ asset, amount: parseEther("4") });
    const early = await rejectsWith(pod.completeCreditWithdrawal({ asset }), "WithdrawalNotReady");
    assert.equal(early.args[2], requested.readyAt);
    await increaseTo(requested.readyAt);
    const before = await core.podToken.read.balanceOf([addressOf(core.alice)]);
    const completed = await pod.completeCreditWithdrawal({ asset });
    assert.equal(completed.amount, parseEther("4"));
    assert.equal(await core.podToken.read.balanceOf([addressOf(core.alice)]), before + parseEther("4"));
    await rejectsWith(pod.cancelCreditWithdrawal({ asset }), "NoPendingWithdrawal");
    await pod.requestCreditWithdrawal({ asset, amount: parseEther("1") });
    assert.equal((await pod.cancelCreditWithdrawal({ asset })).amount, parseEther("1"));
  });

  test("issues an API key the gateway accepts and revokes it on-chain; AlreadyRevoked after", async () => {
    const core = await fresh();
    const pod = podFor(core, core.alice);
    const gateway = addressOf(core.dave);
    const { apiKey, grant, grantId } = await pod.issueApiKey({ gateway, asset: core.stablecoin.address, cap: 5n * USD });
    const parsed = parseApiKey(apiKey);
    assert.deepEqual(parsed.grant, grant);
    assert.equal((await verifyApiKey(parsed, { chainId: await core.publicClient.getChainId(), vault: core.creditVault.address, gateway })).signer, addressOf(core.alice));
    assert.equal(await core.creditVault.read.grantId([grant]), grantId);
    assert.ok(grant.expiry > BigInt(Math.floor(Date.now() / 1000)) - 86_400n);

    const revoked = await pod.revokeApiKey({ apiKey });
    assert.equal(revoked.nonce, grant.nonce);
    assert.equal(await core.creditVault.read.revokedAt([grant.account, grant.nonce]), revoked.revokedAt);
    const again = await rejectsWith(pod.revokeApiKey({ nonce: grant.nonce }), "AlreadyRevoked");
    assert.deepEqual(again.args, [addressOf(core.alice), grant.nonce]);
    await assert.rejects(pod.issueApiKey({ gateway, asset: core.stablecoin.address, cap: 1n, nonce: grant.nonce }), PodConfigError);
  });
});

describe("SDK staking and bonds", () => {
  test("stakes, cools down and redeems; too early is CooldownNotElapsed, no cooldown is CooldownNotStarted", async () => {
    const core = await fresh();
    const pod = podFor(core, core.alice);
    const me = addressOf(core.alice);
    const staked = await pod.stake({ assets: parseEther("1000") });
    assert.equal(staked.shares, await core.stakedPod.read.balanceOf([me]));
    assert.ok(staked.shares > 0n && staked.approvalHash !== undefined);

    const half = staked.shares / 2n;
    const cooldown = await pod.startCooldown({ shares: half });
    const early = await rejectsWith(pod.redeem({ shares: half }), "CooldownNotElapsed");
    const [owner, opensAt]: readonly [Address, bigint] = early.args;
    assert.deepEqual([owner, opensAt], [me, cooldown.opensAt]);
    await rejectsWith(pod.startCooldown({ shares: staked.shares + 1n }), "CooldownExceedsBalance");
    await rejectsWith(podFor(core, core.bob).redeem({ shares: 1n }), "CooldownNotStarted");

    await increaseTo(cooldown.opensAt);
    const before = await core.podToken.read.balanceOf([me]);
    const redeemed = await pod.redeem({ shares: half });
    assert.equal(redeemed.shares, half);
    assert.equal(await core.podToken.read.balanceOf([me]), before + redeemed.assets);
    assert.ok(redeemed.assets > parseEther("499") && redeemed.assets <= parseEther("500"));
  });

  test("bonds, unbonds and withdraws; early is UnbondingNotElapsed, too much is InsufficientActiveBond", async () => {
    const core = await fresh();
    const pod = podFor(core, core.alice);
    const me = addressOf(core.alice);
    const { shares } = await pod.stake({ assets: parseEther("100") });
    const bonded = await pod.bond({ shares });
    assert.equal(bonded.activeShares, shares);
    assert.equal(await core.stakedPod.read.balanceOf([me]), 0n);
    const tooMuch = await rejectsWith(pod.requestUnbond({ shares: shares + 1n }), "InsufficientActiveBond");
    assert.deepEqual(tooMuch.args, [me, shares + 1n, shares]);

    const unbond = await pod.requestUnbond({ shares: shares / 4n });
    assert.equal(unbond.pendingShares, shares / 4n);
    assert.equal((await pod.cancelUnbond()).activeShares, shares);
    const again = await pod.requestUnbond({ shares: shares / 4n });
    const early = await rejectsWith(pod.withdrawUnbonded(), "UnbondingNotElapsed");
    assert.equal(early.args[1], again.unlocksAt);
    await increaseTo(again.unlocksAt);
    assert.equal((await pod.withdrawUnbonded()).shares, shares / 4n);
    assert.equal(await core.stakedPod.read.balanceOf([me]), shares / 4n);
    await rejectsWith(pod.withdrawUnbonded(), "NoPendingUnbond");
  });

  test("the account overview shows liquid POD, sPOD, cooldown, bond, votes and credit", async () => {
    const core = await fresh();
    const pod = podFor(core, core.alice);
    const { shares } = await pod.stake({ assets: parseEther("300") });
    await pod.bond({ shares: shares / 3n });
    await pod.requestUnbond({ shares: shares / 6n });
    const cooldown = await pod.startCooldown({ shares: shares / 3n });
    await pod.depositCredit({ asset: core.podToken.address, amount: parseEther("7") });
    const delegated = await pod.delegateVotes();
    assert.equal(delegated.hashes.length, 2);
    await connection.networkHelpers.mine(2);

    const overview = await pod.getAccountOverview();
    const me = addressOf(core.alice);
    assert.equal(overview.pod, await core.podToken.read.balanceOf([me]));
    assert.equal(overview.staked.shares, shares - shares / 3n);
    assert.ok(overview.staked.assets > parseEther("199") && overview.staked.assets <= parseEther("200"));
    assert.deepEqual(overview.cooldown, { shares: shares / 3n, opensAt: cooldown.opensAt, closesAt: cooldown.closesAt });
    assert.equal(overview.bond.activeShares, shares / 3n - shares / 6n);
    assert.equal(overview.bond.pendingShares, shares / 6n);
    assert.equal(overview.bond.frozen, false);
    assert.ok(overview.votes > overview.pod, "votes count POD and staked POD");
    const [podCredit, usdCredit] = overview.credit;
    assert.deepEqual(podCredit, { asset: getAddress(core.podToken.address), balance: parseEther("7"), pendingWithdrawal: null });
    assert.equal(usdCredit?.balance, 0n);
    const other = await podFor(core, core.alice).getAccountOverview({ account: addressOf(core.carol) });
    assert.deepEqual([other.staked.shares, other.cooldown, other.bond.unlocksAt], [0n, null, null]);
  });
});

describe("SDK nodes", () => {
  test("registers a node with its key's proof, reads its status, deregisters it; twice is NodeNotActive", async () => {
    const core = await fresh();
    const pod = podFor(core, core.alice);
    const nodeKey = privateKeyToAccount(generatePrivateKey());
    const registered = await pod.registerNode({ nodeKey, models: ["pod-gpt2-tiny"], metadataURI: "ipfs://node-1" });
    assert.deepEqual([registered.nodeKey, registered.account, registered.modelIds], [nodeKey.address, addressOf(core.alice), [registryModelId("pod-gpt2-tiny")]]);
    const status = await pod.getNodeStatus({ nodeKey: nodeKey.address });
    assert.deepEqual([status.status, status.account, status.metadataURI, status.suspended, status.openReports], ["active", addressOf(core.alice), "ipfs://node-1", false, 0n]);
    await rejectsWith(podFor(core, core.bob).registerNode({ nodeKey, models: ["pod-gpt2-tiny"], metadataURI: "" }), "NodeOwnedByOther");
    await rejectsWith(pod.updateNode({ nodeKey: nodeKey.address, models: [], metadataURI: "x" }), "NoModels");

    const gone = await pod.deregisterNode({ nodeKey: nodeKey.address });
    assert.equal(gone.nodeKey, nodeKey.address);
    assert.equal((await pod.getNodeStatus({ nodeKey: nodeKey.address })).status, "left");
    const twice = await rejectsWith(pod.deregisterNode({ nodeKey: nodeKey.address }), "NodeNotActive");
    assert.equal(twice.args[0], nodeKey.address);
    const flagged = await podFor(core, core.bob).flagNode({ nodeKey: nodeKey.address, reasonHash: keccak256(toHex("slow")) });
    assert.equal(flagged.receipt.status, "success");
    assert.equal((await pod.getNodeStatus({ nodeKey: nodeKey.address })).flags, 1n);
  });
});
