import assert from "node:assert/strict";
import { network } from "hardhat";
import { getAddress, stringToHex, zeroAddress } from "viem";
import { deployCore } from "./helpers/fixture.ts";
import { METADATA, MODEL_A, keyProof, nodeKey, registerNode } from "./helpers/registry.ts";
import { actAsTimelock, role } from "./helpers/unit.ts";

const connection = await network.create();
const coreFixture = () => deployCore(connection);
const { viem } = connection;

const Status = { None: 0, Active: 1, Left: 2, Banned: 3 } as const;
const REASON = stringToHex("report-1", { size: 32 });
const KEY = nodeKey("alice-1");
const KEY2 = nodeKey("alice-2");
const K = getAddress(KEY.address);
const K2 = getAddress(KEY2.address);
const UNKNOWN = getAddress(nodeKey("nobody").address);

/** Alice runs two nodes; the test acts as the timelock, which holds SUSPENDER_ROLE and BANNER_ROLE. */
async function moderated() {
  const core = await connection.networkHelpers.loadFixture(coreFixture);
  await registerNode(core, core.alice, KEY);
  await registerNode(core, core.alice, KEY2);
  const tl = await actAsTimelock(connection, core);
  const a = getAddress(core.alice.account.address);
  const b = getAddress(core.bob.account.address);
  return { ...core, reg: core.nodeRegistry, tl, a, b };
}

describe("NodeRegistry moderation", () => {
  it("grants SUSPENDER_ROLE to node reports and both timelocks, BANNER_ROLE to node reports and governance only", async () => {
    const { reg, nodeReports, timelock, securityTimelock, deployer } = await moderated();
    const holders = {
      SUSPENDER_ROLE: [nodeReports.address, timelock.address, securityTimelock.address],
      BANNER_ROLE: [nodeReports.address, timelock.address],
    } as const;
    for (const name of ["SUSPENDER_ROLE", "BANNER_ROLE"] as const) {
      const id = await reg.read[name]();
      assert.equal(id, role(name));
      for (const holder of [nodeReports.address, timelock.address, securityTimelock.address, deployer.account.address]) {
        const expected = (holders[name] as readonly string[]).includes(holder);
        assert.equal(await reg.read.hasRole([id, holder]), expected, `${name} for ${holder}`);
      }
    }
  });

  it("the security timelock suspends but never bans (AccessControlUnauthorizedAccount)", async () => {
    const { reg, securityTimelock, a } = await moderated();
    const security = getAddress(securityTimelock.address);
    await connection.networkHelpers.impersonateAccount(security);
    await connection.networkHelpers.setBalance(security, 10n ** 20n);
    await viem.assertions.emitWithArgs(reg.write.setNodeSuspended([K, true, REASON], { account: security }), reg, "NodeSuspensionChanged", [
      K,
      true,
      REASON,
    ]);
    for (const call of [() => reg.write.banNode([K, REASON], { account: security }), () => reg.write.banAccount([a, REASON], { account: security })]) {
      await viem.assertions.revertWithCustomErrorWithArgs(call(), reg, "AccessControlUnauthorizedAccount", [security, role("BANNER_ROLE")]);
    }
  });

  it("refuses every moderation call without its role (AccessControlUnauthorizedAccount)", async () => {
    const { reg, alice, deployer, a } = await moderated();
    const suspender = role("SUSPENDER_ROLE");
    const banner = role("BANNER_ROLE");
    for (const caller of [alice, deployer]) {
      const who = getAddress(caller.account.address);
      const opts = { account: caller.account };
      const calls = [
        [() => reg.write.setNodeSuspended([K, true, REASON], opts), suspender],
        [() => reg.write.setAccountSuspended([a, true, REASON], opts), suspender],
        [() => reg.write.banNode([K, REASON], opts), banner],
        [() => reg.write.banAccount([a, REASON], opts), banner],
      ] as const;
      for (const [call, needed] of calls) {
        await viem.assertions.revertWithCustomErrorWithArgs(call(), reg, "AccessControlUnauthorizedAccount", [who, needed]);
      }
    }
  });

  describe("suspension", () => {
    it("suspends and unsuspends a node (NodeSuspensionChanged); only that node stops serving", async () => {
      const { reg, tl } = await moderated();
      await viem.assertions.emitWithArgs(reg.write.setNodeSuspended([K, true, REASON], { account: tl }), reg, "NodeSuspensionChanged", [
        K,
        true,
        REASON,
      ]);
      assert.equal((await reg.read.getNode([K])).suspended, true);
      assert.equal(await reg.read.isNodeServing([K]), false);
      assert.equal(await reg.read.isServingModel([K, MODEL_A]), false);
      assert.equal(await reg.read.isNodeServing([K2]), true);
      await viem.assertions.emitWithArgs(reg.write.setNodeSuspended([K, false, REASON], { account: tl }), reg, "NodeSuspensionChanged", [
        K,
        false,
        REASON,
      ]);
      assert.equal(await reg.read.isServingModel([K, MODEL_A]), true);
    });

    it("refuses no-op changes (SuspensionUnchanged), unknown keys (UnknownNode) and banned keys (NodeIsBanned)", async () => {
      const { reg, tl } = await moderated();
      await viem.assertions.revertWithCustomErrorWithArgs(
        reg.write.setNodeSuspended([K, false, REASON], { account: tl }),
        reg,
        "SuspensionUnchanged",
        [K, false],
      );
      await reg.write.setNodeSuspended([K, true, REASON], { account: tl });
      await viem.assertions.revertWithCustomErrorWithArgs(
        reg.write.setNodeSuspended([K, true, REASON], { account: tl }),
        reg,
        "SuspensionUnchanged",
        [K, true],
      );
      await viem.assertions.revertWithCustomErrorWithArgs(
        reg.write.setNodeSuspended([UNKNOWN, true, REASON], { account: tl }),
        reg,
        "UnknownNode",
        [UNKNOWN],
      );
      await reg.write.banNode([K2, REASON], { account: tl });
      await viem.assertions.revertWithCustomErrorWithArgs(
        reg.write.setNodeSuspended([K2, true, REASON], { account: tl }),
        reg,
        "NodeIsBanned",
        [K2],
      );
    });

    it("a suspension stays with the key when it leaves and rejoins", async () => {
      const core = await moderated();
      const { reg, tl, alice } = core;
      await reg.write.setNodeSuspended([K, true, REASON], { account: tl });
      await reg.write.deregisterNode([K], { account: alice.account });
      await registerNode(core, alice, KEY);
      assert.equal((await reg.read.getNode([K])).suspended, true);
      assert.equal(await reg.read.isNodeServing([K]), false);
    });

    it("suspends and unsuspends a whole account (AccountSuspensionChanged): none of its nodes serve meanwhile", async () => {
      const { reg, tl, a } = await moderated();
      await viem.assertions.emitWithArgs(
        reg.write.setAccountSuspended([a, true, REASON], { account: tl }),
        reg,
        "AccountSuspensionChanged",
        [a, true, REASON],
      );
      assert.deepEqual(await reg.read.accountStatus([a]), [true, false]);
      assert.equal(await reg.read.isNodeServing([K]), false);
      assert.equal(await reg.read.isNodeServing([K2]), false);
      assert.equal((await reg.read.getNode([K])).suspended, false, "the nodes' own flags are untouched");
      await viem.assertions.revertWithCustomErrorWithArgs(
        reg.write.setAccountSuspended([a, true, REASON], { account: tl }),
        reg,
        "SuspensionUnchanged",
        [a, true],
      );
      await viem.assertions.emitWithArgs(
        reg.write.setAccountSuspended([a, false, REASON], { account: tl }),
        reg,
        "AccountSuspensionChanged",
        [a, false, REASON],
      );
      assert.equal(await reg.read.isNodeServing([K]), true);
      await viem.assertions.revertWithCustomError(
        reg.write.setAccountSuspended([zeroAddress, true, REASON], { account: tl }),
        reg,
        "ZeroAddress",
      );
    });
  });

  describe("bans", () => {
    it("bans a key for good (NodeBanned): it re-registers under no account", async () => {
      const core = await moderated();
      const { reg, tl, alice, bob, a, b } = core;
      await viem.assertions.emitWithArgs(reg.write.banNode([K, REASON], { account: tl }), reg, "NodeBanned", [K, a, REASON]);
      assert.equal((await reg.read.getNode([K])).status, Status.Banned);
      assert.equal(await reg.read.isNodeServing([K]), false);
      assert.equal(await reg.read.isNodeServing([K2]), true);
      await viem.assertions.revertWithCustomErrorWithArgs(registerNode(core, alice, KEY), reg, "NodeIsBanned", [K]);
      await viem.assertions.revertWithCustomErrorWithArgs(registerNode(core, bob, KEY), reg, "NodeIsBanned", [K]);
      await viem.assertions.revertWithCustomErrorWithArgs(
        reg.write.updateNode([K, [MODEL_A], METADATA], { account: alice.account }),
        reg,
        "NodeNotActive",
        [K, Status.Banned],
      );
      await viem.assertions.revertWithCustomErrorWithArgs(reg.write.deregisterNode([K], { account: alice.account }), reg, "NodeNotActive", [
        K,
        Status.Banned,
      ]);
      assert.equal(await reg.read.accountOf([K]), a);
      assert.deepEqual(await reg.read.accountStatus([b]), [false, false]);
    });

    it("bans a key that left, refuses a second ban (NodeIsBanned) and unknown keys (UnknownNode)", async () => {
      const core = await moderated();
      const { reg, tl, alice, bob, a } = core;
      await reg.write.deregisterNode([K], { account: alice.account });
      await viem.assertions.emitWithArgs(reg.write.banNode([K, REASON], { account: tl }), reg, "NodeBanned", [K, a, REASON]);
      await viem.assertions.revertWithCustomErrorWithArgs(registerNode(core, bob, KEY), reg, "NodeIsBanned", [K]);
      await viem.assertions.revertWithCustomErrorWithArgs(reg.write.banNode([K, REASON], { account: tl }), reg, "NodeIsBanned", [K]);
      await viem.assertions.revertWithCustomErrorWithArgs(
        reg.write.banNode([UNKNOWN, REASON], { account: tl }),
        reg,
        "UnknownNode",
        [UNKNOWN],
      );
    });

    it("bans an account for good (AccountBanned): its nodes stop, it registers no key, its keys join no alias", async () => {
      const core = await moderated();
      const { reg, tl, alice, bob, a } = core;
      await reg.write.deregisterNode([K2], { account: alice.account });
      await viem.assertions.emitWithArgs(reg.write.banAccount([a, REASON], { account: tl }), reg, "AccountBanned", [a, REASON]);
      assert.deepEqual(await reg.read.accountStatus([a]), [false, true]);
      assert.equal(await reg.read.isNodeServing([K]), false);
      assert.equal(await reg.read.isServingModel([K, MODEL_A]), false);

      const fresh = nodeKey("alice-3");
      await viem.assertions.revertWithCustomErrorWithArgs(registerNode(core, alice, fresh), reg, "AccountIsBanned", [a]);
      await viem.assertions.revertWithCustomErrorWithArgs(registerNode(core, bob, KEY2), reg, "NodeIsBanned", [K2]);
      await viem.assertions.revertWithCustomErrorWithArgs(
        reg.write.updateNode([K, [MODEL_A], METADATA], { account: alice.account }),
        reg,
        "AccountIsBanned",
        [a],
      );
      // Leaving is still allowed, and changes nothing for the ban.
      await reg.write.deregisterNode([K], { account: alice.account });
      await viem.assertions.revertWithCustomErrorWithArgs(registerNode(core, bob, KEY), reg, "NodeIsBanned", [K]);
      const proof = await keyProof(core, fresh, getAddress(bob.account.address));
      await reg.write.registerNode([fresh.address, [MODEL_A], METADATA, proof], { account: bob.account });
      assert.equal(await reg.read.isNodeServing([fresh.address]), true, "a fresh key of another account is unaffected");
    });

    it("refuses a second account ban or suspending a banned account (AccountIsBanned), and the zero account", async () => {
      const { reg, tl, a } = await moderated();
      await reg.write.banAccount([a, REASON], { account: tl });
      await viem.assertions.revertWithCustomErrorWithArgs(reg.write.banAccount([a, REASON], { account: tl }), reg, "AccountIsBanned", [a]);
      await viem.assertions.revertWithCustomErrorWithArgs(
        reg.write.setAccountSuspended([a, true, REASON], { account: tl }),
        reg,
        "AccountIsBanned",
        [a],
      );
      await viem.assertions.revertWithCustomError(reg.write.banAccount([zeroAddress, REASON], { account: tl }), reg, "ZeroAddress");
    });
  });
});
