/**
 * Rewards through the SDK: a real cumulative root (sdk/src/merkle) signed by the devnet's oracle
 * (the deployer) and proposed on PodDevnet, its leaves served as GET /claims/:account by a tiny
 * HTTP server on 127.0.0.1 in the indexer's JSON shape; claims liquid and bonded, the epoch
 * reads, validator reports, and the typed errors of each refusal.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { network } from "hardhat";
import type { NetworkConnection } from "hardhat/types/network";
import { getAddress, isAddress, keccak256, parseEther, toHex, zeroHash, type Address, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { PodIndexerError } from "../src/errors.ts";
import { CumulativeRewardTree } from "../src/merkle/tree.ts";
import { EPOCH_ROOT_TYPES, settlementDomain, type EpochRoot } from "../src/typedData.ts";
import { deployCore, now, type Core } from "../../test/helpers/fixture.ts";
import { validatorTree } from "../../test/helpers/rewards.ts";
import { addressOf, podFor, rejectsWith } from "./actionsFixture.ts";

let connection: NetworkConnection;
let deploy: () => Promise<Core>;

/** What the test indexer serves: the accepted tree's leaves; `broken` answers garbage. */
const served: { epoch: number | null; root: Hex; leaves: Map<Address, bigint>; tree: CumulativeRewardTree | undefined; broken: boolean; core: Core | undefined } = {
  epoch: null,
  root: zeroHash,
  leaves: new Map(),
  tree: undefined,
  broken: false,
  core: undefined,
};
let server: Server;
let indexerUrl: string;

before(async () => {
  connection = await network.create();
  deploy = () => deployCore(connection, { network: { rewardsPoolFunding: parseEther("1000000") } });
  server = createServer((request, response) => {
    void (async () => {
      const match = /^\/claims\/([^/]+)$/.exec(request.url ?? "");
      if (match === null) return void response.writeHead(404).end("not found");
      if (served.broken) return void response.writeHead(200, { "content-type": "application/json" }).end('{"account": 1}');
      const raw = match[1] ?? "";
      if (!isAddress(raw, { strict: false })) return void response.writeHead(400).end("bad address");
      const account = getAddress(raw);
      const cumulative = served.leaves.get(account) ?? 0n;
      const claimed = served.core === undefined ? 0n : await served.core.rewardsDistributor.read.claimed([account]);
      const body = {
        account,
        epoch: served.epoch,
        root: served.root,
        cumulative: cumulative.toString(),
        claimed: claimed.toString(),
        claimable: (cumulative > claimed ? cumulative - claimed : 0n).toString(),
        proof: served.tree?.proofFor(account) ?? [],
      };
      response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  indexerUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await connection.close();
});

/** Signs `epochRoot` with the devnet's oracle (the deployer) and proposes it once the epoch closed. */
async function proposeAsOracle(core: Core, epochRoot: EpochRoot) {
  const chainId = await core.publicClient.getChainId();
  const signature = await core.deployer.signTypedData({
    domain: settlementDomain("rewardsDistributor", chainId, core.rewardsDistributor.address),
    types: EPOCH_ROOT_TYPES,
    primaryType: "EpochRoot",
    message: epochRoot,
  });
  const [length, genesis] = await core.protocolParams.read.epochSchedule();
  const closesAt = genesis + (epochRoot.epoch + 1n) * length;
  const latest = await now(connection);
  await connection.networkHelpers.time.setNextBlockTimestamp(closesAt > latest ? closesAt : latest + 1n);
  await core.rewardsDistributor.write.proposeRoot([epochRoot, [signature]]);
  return core.rewardsDistributor.read.epochRecord([epochRoot.epoch]);
}

/** Epoch 0 pays alice 120 POD and bob 80 POD; carol is the epoch's only validator. */
async function world() {
  const core = await connection.networkHelpers.loadFixture(deploy);
  const rewards = new Map<Address, bigint>([
    [addressOf(core.alice), parseEther("120")],
    [addressOf(core.bob), parseEther("80")],
  ]);
  const tree = CumulativeRewardTree.build([...rewards].map(([account, cumulativeReward]) => ({ account, cumulativeReward })));
  const validators = validatorTree([addressOf(core.carol)]);
  const epochRoot: EpochRoot = { epoch: 0n, root: tree.root, total: parseEther("200"), reportHash: keccak256(toHex("report 0")), validatorsRoot: validators.root };
  Object.assign(served, { epoch: 0, root: tree.root, leaves: rewards, tree, broken: false, core });
  return { core, tree, validators, epochRoot };
}

describe("SDK rewards", () => {
  test("claims liquid and bonded with the indexer's proof; reads epochs and what is claimable", async () => {
    const { core, epochRoot } = await world();
    const alice = podFor(core, core.alice, indexerUrl);
    const none = await alice.getEpochStatus();
    assert.deepEqual([none.nextEpoch, none.claimable, none.record], [0n, null, null]);

    const record = await proposeAsOracle(core, epochRoot);
    const pending = await alice.getEpochStatus();
    assert.equal(pending.record?.state, "pending");
    assert.equal(pending.claimable, null);
    await rejectsWith(alice.claimRewards(), "NoClaimableRoot");

    await connection.networkHelpers.time.increaseTo(record.claimableAt);
    const status = await alice.getEpochStatus({ epoch: 0n });
    assert.deepEqual([status.nextEpoch, status.claimable?.epoch, status.claimable?.state, status.claimable?.root, status.record?.total], [1n, 0n, "claimable", epochRoot.root, parseEther("200")]);
    assert.equal((await alice.getClaimable()).claimable, parseEther("120"));

    const me = addressOf(core.alice);
    const before = await core.podToken.read.balanceOf([me]);
    const claimed = await alice.claimRewards();
    assert.deepEqual([claimed.account, claimed.epoch, claimed.amount, claimed.bonus], [me, 0n, parseEther("120"), 0n]);
    assert.equal(await core.podToken.read.balanceOf([me]), before + parseEther("120"));
    assert.equal((await alice.getClaimable()).claimable, 0n);
    const nothing = await rejectsWith(alice.claimRewards(), "NothingToClaim");
    assert.deepEqual(nothing.args, [me, parseEther("120"), parseEther("120")]);

    const bob = podFor(core, core.bob, indexerUrl);
    const bonded = await bob.claimRewards({ asBonded: true });
    assert.equal(bonded.amount, parseEther("80"));
    assert.equal(bonded.bonus, parseEther("4"), "5% bonded-claim bonus");
    const overview = await bob.getAccountOverview();
    assert.equal(overview.bond.activeShares, await core.bondManager.read.activeShares([addressOf(core.bob)]));
    assert.ok(overview.bond.activeShares > 0n);
  });

  test("a leaf the root does not hold is InvalidProof; a broken indexer answer is PodIndexerError", async () => {
    const { core, epochRoot } = await world();
    const record = await proposeAsOracle(core, epochRoot);
    await connection.networkHelpers.time.increaseTo(record.claimableAt);
    const alice = podFor(core, core.alice, indexerUrl);
    const leaf = await alice.fetchClaim();
    const invalid = await rejectsWith(alice.claimRewards({ claim: { ...leaf, cumulative: leaf.cumulative + 1n } }), "InvalidProof");
    assert.deepEqual(invalid.args, [addressOf(core.alice), leaf.cumulative + 1n, 0n]);
    const carol = await podFor(core, core.carol, indexerUrl).fetchClaim();
    assert.deepEqual([carol.cumulative, carol.proof], [0n, []]);

    served.broken = true;
    await assert.rejects(alice.claimRewards(), (error: unknown) => error instanceof PodIndexerError && /account/.test(error.message));
    served.broken = false;
    await assert.rejects(podFor(core, core.alice).claimRewards(), /indexerUrl/);
    await assert.rejects(podFor(core, core.alice, `${indexerUrl}nowhere`).fetchClaim(), (error: unknown) => error instanceof PodIndexerError && error.status === 404);
  });

  test("a validator of the claimable epoch reports a node; others are NotValidator, twice is DuplicateReport", async () => {
    const { core, epochRoot, validators } = await world();
    const record = await proposeAsOracle(core, epochRoot);
    await connection.networkHelpers.time.increaseTo(record.claimableAt);
    const nodeKey = privateKeyToAccount(generatePrivateKey());
    const dave = podFor(core, core.dave, indexerUrl);
    await dave.registerNode({ nodeKey, models: ["pod-gpt2-tiny"], metadataURI: "ipfs://dave" });

    const carol = podFor(core, core.carol, indexerUrl);
    const evidenceHash = keccak256(toHex("wrong logprobs in epoch 0"));
    const validatorProof = validators.proof(addressOf(core.carol));
    const report = await carol.reportNode({ nodeKey: nodeKey.address, evidenceHash, validatorProof });
    assert.deepEqual([report.reportId, report.account], [1n, addressOf(core.dave)]);
    const status = await carol.getNodeStatus({ nodeKey: nodeKey.address });
    assert.equal(status.openReports, 1n);
    assert.equal((await dave.getAccountOverview()).bond.frozen, true);

    await rejectsWith(carol.reportNode({ nodeKey: nodeKey.address, evidenceHash, validatorProof }), "DuplicateReport");
    const outsider = await rejectsWith(podFor(core, core.bob).reportNode({ nodeKey: nodeKey.address, evidenceHash, validatorProof }), "NotValidator");
    assert.deepEqual(outsider.args, [addressOf(core.bob)]);
  });
});
