import assert from "node:assert/strict";
import { network } from "hardhat";
import { getAddress, hashTypedData, zeroAddress, type Hex } from "viem";
import { NODE_KEY_OWNERSHIP_TYPES, settlementDomain } from "../sdk/src/typedData.ts";
import { deployCore } from "./helpers/fixture.ts";
import { METADATA, MODEL_A, MODEL_B, MODEL_C, keyProof, modelId, nodeKey, registerNode } from "./helpers/registry.ts";
import { minedAt } from "./helpers/unit.ts";

const connection = await network.create();
const coreFixture = () => deployCore(connection);
const { viem } = connection;

const Status = { None: 0, Active: 1, Left: 2, Banned: 3 } as const;
const KEY = nodeKey("alice-1");
const K = getAddress(KEY.address);

async function registry() {
  const core = await connection.networkHelpers.loadFixture(coreFixture);
  const a = getAddress(core.alice.account.address);
  const b = getAddress(core.bob.account.address);
  return { ...core, reg: core.nodeRegistry, a, b };
}

describe("NodeRegistry", () => {
  describe("registerNode", () => {
    it("registers a key proven by its own signature (NodeRegistered) and serves its models", async () => {
      const core = await registry();
      const { reg, alice, a } = core;
      const proof = await keyProof(core, KEY, a);
      const tx = reg.write.registerNode([K, [MODEL_A, MODEL_B], METADATA, proof], { account: alice.account });
      await viem.assertions.emitWithArgs(tx, reg, "NodeRegistered", [K, a, [MODEL_A, MODEL_B], METADATA]);
      const at = await minedAt(core, await tx);
      assert.deepEqual(await reg.read.getNode([K]), {
        account: a,
        status: Status.Active,
        suspended: false,
        registeredAt: at,
        metadataURI: METADATA,
      });
      assert.deepEqual(await reg.read.nodeModels([K]), [MODEL_A, MODEL_B]);
      assert.equal(await reg.read.accountOf([K]), a);
      assert.equal(await reg.read.isNodeServing([K]), true);
      assert.equal(await reg.read.isServingModel([K, MODEL_B]), true);
      assert.equal(await reg.read.isServingModel([K, MODEL_C]), false);
      assert.deepEqual(await reg.read.accountStatus([a]), [false, false]);
    });

    it("signs the digest of sdk's NODE_KEY_OWNERSHIP_TYPES over the registry's domain and the key's nonce", async () => {
      const core = await registry();
      const { reg, alice, a, publicClient } = core;
      const domain = settlementDomain("nodeRegistry", await publicClient.getChainId(), reg.address);
      const digest = (nonce: bigint) =>
        hashTypedData({ domain, types: NODE_KEY_OWNERSHIP_TYPES, primaryType: "NodeKeyOwnership", message: { account: a, nodeKey: K, nonce } });
      assert.equal(await reg.read.keyNonce([K]), 0n);
      assert.equal(await reg.read.keyOwnershipDigest([a, K]), digest(0n));
      await registerNode(core, alice, KEY);
      assert.equal(await reg.read.keyNonce([K]), 1n);
      assert.equal(await reg.read.keyOwnershipDigest([a, K]), digest(1n));
    });

    it("knows nothing of an unregistered key", async () => {
      const { reg } = await registry();
      assert.deepEqual(await reg.read.getNode([K]), {
        account: zeroAddress,
        status: Status.None,
        suspended: false,
        registeredAt: 0n,
        metadataURI: "",
      });
      assert.deepEqual(await reg.read.nodeModels([K]), []);
      assert.equal(await reg.read.accountOf([K]), zeroAddress);
      assert.equal(await reg.read.isNodeServing([K]), false);
      assert.equal(await reg.read.isServingModel([K, MODEL_A]), false);
    });

    it("rejects a proof signed by another key, a proof for another account and a malformed one (InvalidKeySignature)", async () => {
      const core = await registry();
      const { reg, alice, bob, a, b } = core;
      const byOtherKey = await keyProof(core, nodeKey("other"), a);
      const forBob = await keyProof(core, KEY, b);
      const garbage: Hex[] = ["0x", `0x${"11".repeat(65)}`, (await keyProof(core, KEY, a)).slice(0, 130) as Hex];
      for (const proof of [byOtherKey, forBob, ...garbage]) {
        await viem.assertions.revertWithCustomErrorWithArgs(
          reg.write.registerNode([K, [MODEL_A], METADATA, proof], { account: alice.account }),
          reg,
          "InvalidKeySignature",
          [K, a],
        );
      }
      // The proof for bob works for bob only.
      await viem.assertions.emitWithArgs(
        reg.write.registerNode([K, [MODEL_A], METADATA, forBob], { account: bob.account }),
        reg,
        "NodeRegistered",
        [K, b, [MODEL_A], METADATA],
      );
    });

    it("rejects the zero key (ZeroAddress) and an empty, oversized or repeating model list", async () => {
      const core = await registry();
      const { reg, alice, a } = core;
      const proof = await keyProof(core, KEY, a);
      await viem.assertions.revertWithCustomError(
        reg.write.registerNode([zeroAddress, [MODEL_A], METADATA, proof], { account: alice.account }),
        reg,
        "ZeroAddress",
      );
      const register = (models: Hex[]) => reg.write.registerNode([K, models, METADATA, proof], { account: alice.account });
      await viem.assertions.revertWithCustomErrorWithArgs(register([]), reg, "NoModels", [K]);
      const max = await reg.read.MAX_MODELS();
      assert.equal(max, 32n);
      const many = Array.from({ length: Number(max) + 1 }, (_, i) => modelId(`model-${i}`));
      await viem.assertions.revertWithCustomErrorWithArgs(register(many), reg, "TooManyModels", [K, max + 1n, max]);
      await viem.assertions.revertWithCustomErrorWithArgs(register([MODEL_A, MODEL_B, MODEL_C, MODEL_B]), reg, "DuplicateModel", [
        K,
        MODEL_B,
      ]);
      await viem.assertions.emitWithArgs(register(many.slice(0, Number(max))), reg, "NodeRegistered", [
        K,
        a,
        many.slice(0, Number(max)),
        METADATA,
      ]);
      assert.equal(await reg.read.isServingModel([K, many[31] as Hex]), true);
    });

    it("rejects an active key: the owner's again (NodeAlreadyActive), another's (NodeOwnedByOther)", async () => {
      const core = await registry();
      const { reg, alice, bob, a, b } = core;
      await registerNode(core, alice, KEY);
      await viem.assertions.revertWithCustomErrorWithArgs(registerNode(core, alice, KEY), reg, "NodeAlreadyActive", [K]);
      const forBob = await keyProof(core, KEY, b);
      await viem.assertions.revertWithCustomErrorWithArgs(
        reg.write.registerNode([K, [MODEL_A], METADATA, forBob], { account: bob.account }),
        reg,
        "NodeOwnedByOther",
        [K, a],
      );
    });
  });

  describe("updateNode", () => {
    it("replaces the models and metadata of the caller's active node (NodeUpdated)", async () => {
      const core = await registry();
      const { reg, alice, a } = core;
      const at = await minedAt(core, await registerNode(core, alice, KEY, [MODEL_A, MODEL_B]));
      await viem.assertions.emitWithArgs(
        reg.write.updateNode([K, [MODEL_C], "ipfs://v2"], { account: alice.account }),
        reg,
        "NodeUpdated",
        [K, [MODEL_C], "ipfs://v2"],
      );
      assert.deepEqual(await reg.read.nodeModels([K]), [MODEL_C]);
      assert.equal(await reg.read.isServingModel([K, MODEL_A]), false);
      assert.equal(await reg.read.isServingModel([K, MODEL_C]), true);
      const node = await reg.read.getNode([K]);
      assert.deepEqual([node.account, node.metadataURI, node.registeredAt], [a, "ipfs://v2", at]);
    });

    it("refuses other callers and unknown keys (NotNodeOwner), left nodes (NodeNotActive) and bad model lists", async () => {
      const core = await registry();
      const { reg, alice, bob, a, b } = core;
      const unknown = getAddress(nodeKey("nobody").address);
      await viem.assertions.revertWithCustomErrorWithArgs(
        reg.write.updateNode([unknown, [MODEL_A], METADATA], { account: alice.account }),
        reg,
        "NotNodeOwner",
        [unknown, a],
      );
      await registerNode(core, alice, KEY);
      await viem.assertions.revertWithCustomErrorWithArgs(
        reg.write.updateNode([K, [MODEL_A], METADATA], { account: bob.account }),
        reg,
        "NotNodeOwner",
        [K, b],
      );
      await viem.assertions.revertWithCustomErrorWithArgs(
        reg.write.updateNode([K, [], METADATA], { account: alice.account }),
        reg,
        "NoModels",
        [K],
      );
      await viem.assertions.revertWithCustomErrorWithArgs(
        reg.write.updateNode([K, [MODEL_A, MODEL_A], METADATA], { account: alice.account }),
        reg,
        "DuplicateModel",
        [K, MODEL_A],
      );
      await reg.write.deregisterNode([K], { account: alice.account });
      await viem.assertions.revertWithCustomErrorWithArgs(
        reg.write.updateNode([K, [MODEL_A], METADATA], { account: alice.account }),
        reg,
        "NodeNotActive",
        [K, Status.Left],
      );
    });
  });

  describe("deregisterNode and rejoining", () => {
    it("takes the node out of the pool (NodeDeregistered); it rejoins with a fresh proof and new models", async () => {
      const core = await registry();
      const { reg, alice, a } = core;
      await registerNode(core, alice, KEY, [MODEL_A]);
      await viem.assertions.emitWithArgs(reg.write.deregisterNode([K], { account: alice.account }), reg, "NodeDeregistered", [K, a]);
      assert.equal((await reg.read.getNode([K])).status, Status.Left);
      assert.equal(await reg.read.isNodeServing([K]), false);
      assert.equal(await reg.read.isServingModel([K, MODEL_A]), false);
      assert.equal(await reg.read.accountOf([K]), a, "a node that left keeps its account");

      const rejoin = registerNode(core, alice, KEY, [MODEL_B, MODEL_C]);
      await viem.assertions.emitWithArgs(rejoin, reg, "NodeRegistered", [K, a, [MODEL_B, MODEL_C], METADATA]);
      const node = await reg.read.getNode([K]);
      assert.deepEqual([node.status, node.registeredAt], [Status.Active, await minedAt(core, await rejoin)]);
      assert.deepEqual(await reg.read.nodeModels([K]), [MODEL_B, MODEL_C], "the shorter list replaces the old one");
      assert.equal(await reg.read.isServingModel([K, MODEL_A]), false);
    });

    it("refuses other callers (NotNodeOwner) and nodes that are not active (NodeNotActive)", async () => {
      const core = await registry();
      const { reg, alice, bob, a, b } = core;
      await viem.assertions.revertWithCustomErrorWithArgs(reg.write.deregisterNode([K], { account: alice.account }), reg, "NotNodeOwner", [
        K,
        a,
      ]);
      await registerNode(core, alice, KEY);
      await viem.assertions.revertWithCustomErrorWithArgs(reg.write.deregisterNode([K], { account: bob.account }), reg, "NotNodeOwner", [
        K,
        b,
      ]);
      await reg.write.deregisterNode([K], { account: alice.account });
      await viem.assertions.revertWithCustomErrorWithArgs(reg.write.deregisterNode([K], { account: alice.account }), reg, "NodeNotActive", [
        K,
        Status.Left,
      ]);
    });

    it("refuses a replayed proof (InvalidKeySignature): every registration bumps the key's nonce", async () => {
      const core = await registry();
      const { reg, alice, bob, a } = core;
      const first = await keyProof(core, KEY, a);
      await reg.write.registerNode([K, [MODEL_A], METADATA, first], { account: alice.account });
      await reg.write.deregisterNode([K], { account: alice.account });
      const replay = () => reg.write.registerNode([K, [MODEL_A], METADATA, first], { account: alice.account });
      await viem.assertions.revertWithCustomErrorWithArgs(replay(), reg, "InvalidKeySignature", [K, a]);
      assert.equal(await reg.read.keyNonce([K]), 1n, "a refused registration spends no nonce");

      // The key moves to bob; alice's old proofs (nonce 0, or 1 signed before the move) take nothing back.
      const aliceAtOne = await keyProof(core, KEY, a);
      await registerNode(core, bob, KEY);
      await reg.write.deregisterNode([K], { account: bob.account });
      assert.equal(await reg.read.keyNonce([K]), 2n);
      for (const proof of [first, aliceAtOne]) {
        await viem.assertions.revertWithCustomErrorWithArgs(
          reg.write.registerNode([K, [MODEL_A], METADATA, proof], { account: alice.account }),
          reg,
          "InvalidKeySignature",
          [K, a],
        );
      }
      await viem.assertions.emitWithArgs(registerNode(core, alice, KEY), reg, "NodeRegistered", [K, a, [MODEL_A], METADATA]);
      assert.equal(await reg.read.keyNonce([K]), 3n);
    });

    it("a key that left moves to another account only with a proof for that account", async () => {
      const core = await registry();
      const { reg, alice, bob, a, b } = core;
      await registerNode(core, alice, KEY);
      await reg.write.deregisterNode([K], { account: alice.account });
      const alicesProof = await keyProof(core, KEY, a);
      await viem.assertions.revertWithCustomErrorWithArgs(
        reg.write.registerNode([K, [MODEL_A], METADATA, alicesProof], { account: bob.account }),
        reg,
        "InvalidKeySignature",
        [K, b],
      );
      await viem.assertions.emitWithArgs(registerNode(core, bob, KEY), reg, "NodeRegistered", [K, b, [MODEL_A], METADATA]);
      assert.equal(await reg.read.accountOf([K]), b);
      await viem.assertions.revertWithCustomErrorWithArgs(reg.write.deregisterNode([K], { account: alice.account }), reg, "NotNodeOwner", [
        K,
        a,
      ]);
    });
  });
});
