import assert from "node:assert/strict";
import { network } from "hardhat";
import { getAddress, parseSignature, recoverTypedDataAddress, zeroAddress, type Address } from "viem";
import { deployCore, now, POD } from "./helpers/fixture.ts";
import { eventsIn, mineAt, minedAt, nextAt, type Wallet } from "./helpers/unit.ts";
import type { Core } from "./helpers/fixture.ts";

const connection = await network.create();
const coreFixture = () => deployCore(connection);
const { viem } = connection;

const SUPPLY = 1_000_000_000n * POD;
const USER_BALANCE = 1_000_000n * POD;

const permitTypes = {
  Permit: [
    { name: "owner", type: "address" },
    { name: "spender", type: "address" },
    { name: "value", type: "uint256" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
} as const;

async function permitDomain(core: Core) {
  return {
    name: "POD",
    version: "1",
    chainId: await core.publicClient.getChainId(),
    verifyingContract: core.podToken.address,
  } as const;
}

interface PermitMessage {
  owner: Address;
  spender: Address;
  value: bigint;
  nonce: bigint;
  deadline: bigint;
}

/** `signer` signs an EIP-2612 permit (which is only valid when signer == message.owner). */
async function signPermit(core: Core, signer: Wallet, message: PermitMessage) {
  const domain = await permitDomain(core);
  const signature = await signer.signTypedData({
    account: signer.account,
    domain,
    types: permitTypes,
    primaryType: "Permit",
    message,
  });
  const { r, s, v } = parseSignature(signature);
  return { signature, r, s, v: Number(v) };
}

describe("PodToken", () => {
  it("mints the whole fixed supply once, to the treasury, with POD metadata", async () => {
    const core = await connection.networkHelpers.loadFixture(coreFixture);
    const { podToken, deployer, alice } = core;
    assert.equal(await podToken.read.name(), "POD");
    assert.equal(await podToken.read.symbol(), "POD");
    assert.equal(await podToken.read.decimals(), 18);
    assert.equal(await podToken.read.totalSupply(), SUPPLY);
    // The fixture handed 1,000,000 POD to each of four users.
    assert.equal(await podToken.read.balanceOf([deployer.account.address]), SUPPLY - 4n * USER_BALANCE);
    assert.equal(await podToken.read.balanceOf([alice.account.address]), USER_BALANCE);

    const mints = await core.publicClient.getContractEvents({
      address: podToken.address,
      abi: podToken.abi,
      eventName: "Transfer",
      args: { from: zeroAddress },
      fromBlock: 0n,
    });
    assert.equal(mints.length, 1);
    assert.equal(getAddress(mints[0]!.args.to!), getAddress(deployer.account.address));
    assert.equal(mints[0]!.args.value, SUPPLY);
  });

  it("runs its votes on a timestamp clock (EIP-6372)", async () => {
    const { podToken } = await connection.networkHelpers.loadFixture(coreFixture);
    assert.equal(await podToken.read.CLOCK_MODE(), "mode=timestamp");
    assert.equal(BigInt(await podToken.read.clock()), await now(connection));
    const later = (await now(connection)) + 12_345n;
    await mineAt(connection, later);
    assert.equal(BigInt(await podToken.read.clock()), later);
  });

  it("gives delegated votes, checkpointed by timestamp", async () => {
    const core = await connection.networkHelpers.loadFixture(coreFixture);
    const { podToken, alice, bob, carol } = core;
    const a = getAddress(alice.account.address);
    const b = getAddress(bob.account.address);
    const c = getAddress(carol.account.address);
    assert.equal(await podToken.read.getVotes([a]), 0n);
    assert.equal(await podToken.read.delegates([a]), zeroAddress);

    const t1 = (await now(connection)) + 100n;
    await nextAt(connection, t1);
    const delegated = podToken.write.delegate([a], { account: alice.account });
    await viem.assertions.emitWithArgs(delegated, podToken, "DelegateChanged", [a, zeroAddress, a]);
    const hash = await delegated;
    assert.equal(await minedAt(core, hash), t1);
    const [votesChanged] = await eventsIn(core, hash, podToken, "DelegateVotesChanged");
    assert.deepEqual(votesChanged?.args, { delegate: a, previousVotes: 0n, newVotes: USER_BALANCE });
    assert.equal(await podToken.read.getVotes([a]), USER_BALANCE);
    assert.equal(getAddress(await podToken.read.delegates([a])), a);

    // Bob delegates to carol; a transfer from alice to bob moves votes from alice to carol.
    await podToken.write.delegate([c], { account: bob.account });
    const t2 = (await now(connection)) + 100n;
    await nextAt(connection, t2);
    const moved = podToken.write.transfer([b, 250n * POD], { account: alice.account });
    await viem.assertions.emitWithArgs(moved, podToken, "DelegateVotesChanged", [a, USER_BALANCE, USER_BALANCE - 250n * POD]);
    const movedHash = await moved;
    const changes = await eventsIn(core, movedHash, podToken, "DelegateVotesChanged");
    assert.deepEqual(
      changes.map((log) => log.args),
      [
        { delegate: a, previousVotes: USER_BALANCE, newVotes: USER_BALANCE - 250n * POD },
        { delegate: c, previousVotes: USER_BALANCE, newVotes: USER_BALANCE + 250n * POD },
      ],
    );
    assert.equal(await podToken.read.getVotes([b]), 0n);

    // The present is not past: getPastVotes(now) reverts.
    assert.equal(await now(connection), t2);
    await viem.assertions.revertWithCustomErrorWithArgs(podToken.read.getPastVotes([a, t2]), podToken, "ERC5805FutureLookup", [
      t2,
      Number(t2),
    ]);
    await mineAt(connection, t2 + 1n);
    assert.equal(await podToken.read.getPastVotes([a, t1 - 1n]), 0n);
    assert.equal(await podToken.read.getPastVotes([a, t1]), USER_BALANCE);
    assert.equal(await podToken.read.getPastVotes([a, t2 - 1n]), USER_BALANCE);
    assert.equal(await podToken.read.getPastVotes([a, t2]), USER_BALANCE - 250n * POD);
    assert.equal(await podToken.read.getPastVotes([c, t2]), USER_BALANCE + 250n * POD);
    assert.equal(await podToken.read.getPastTotalSupply([t2]), SUPPLY);
  });

  it("burns from the caller's balance, lowering the supply and the caller's votes", async () => {
    const core = await connection.networkHelpers.loadFixture(coreFixture);
    const { podToken, alice } = core;
    const a = getAddress(alice.account.address);
    await podToken.write.delegate([a], { account: alice.account });
    const burned = podToken.write.burn([10n * POD], { account: alice.account });
    await viem.assertions.emitWithArgs(burned, podToken, "Transfer", [a, zeroAddress, 10n * POD]);
    assert.equal(await podToken.read.totalSupply(), SUPPLY - 10n * POD);
    assert.equal(await podToken.read.balanceOf([a]), USER_BALANCE - 10n * POD);
    assert.equal(await podToken.read.getVotes([a]), USER_BALANCE - 10n * POD);

    const balance = USER_BALANCE - 10n * POD;
    await viem.assertions.revertWithCustomErrorWithArgs(
      podToken.write.burn([balance + 1n], { account: alice.account }),
      podToken,
      "ERC20InsufficientBalance",
      [a, balance, balance + 1n],
    );
  });

  it("burnFrom spends the allowance and reverts beyond it", async () => {
    const core = await connection.networkHelpers.loadFixture(coreFixture);
    const { podToken, alice, bob } = core;
    const a = getAddress(alice.account.address);
    const b = getAddress(bob.account.address);
    await viem.assertions.revertWithCustomErrorWithArgs(
      podToken.write.burnFrom([a, 1n], { account: bob.account }),
      podToken,
      "ERC20InsufficientAllowance",
      [b, 0n, 1n],
    );
    await podToken.write.approve([b, 5n * POD], { account: alice.account });
    await viem.assertions.revertWithCustomErrorWithArgs(
      podToken.write.burnFrom([a, 5n * POD + 1n], { account: bob.account }),
      podToken,
      "ERC20InsufficientAllowance",
      [b, 5n * POD, 5n * POD + 1n],
    );
    const burned = podToken.write.burnFrom([a, 3n * POD], { account: bob.account });
    await viem.assertions.emitWithArgs(burned, podToken, "Transfer", [a, zeroAddress, 3n * POD]);
    assert.equal(await podToken.read.allowance([a, b]), 2n * POD);
    assert.equal(await podToken.read.balanceOf([a]), USER_BALANCE - 3n * POD);
    assert.equal(await podToken.read.balanceOf([b]), USER_BALANCE);
    assert.equal(await podToken.read.totalSupply(), SUPPLY - 3n * POD);
  });

  it("reverts a transfer over the balance, and to the zero address", async () => {
    const { podToken, alice, bob } = await connection.networkHelpers.loadFixture(coreFixture);
    const a = getAddress(alice.account.address);
    await viem.assertions.revertWithCustomErrorWithArgs(
      podToken.write.transfer([bob.account.address, USER_BALANCE + 1n], { account: alice.account }),
      podToken,
      "ERC20InsufficientBalance",
      [a, USER_BALANCE, USER_BALANCE + 1n],
    );
    await viem.assertions.revertWithCustomErrorWithArgs(
      podToken.write.transfer([zeroAddress, 1n], { account: alice.account }),
      podToken,
      "ERC20InvalidReceiver",
      [zeroAddress],
    );
    await viem.assertions.emitWithArgs(
      podToken.write.transfer([bob.account.address, USER_BALANCE], { account: alice.account }),
      podToken,
      "Transfer",
      [a, getAddress(bob.account.address), USER_BALANCE],
    );
    assert.equal(await podToken.read.balanceOf([a]), 0n);
  });

  describe("permit (EIP-2612)", () => {
    it("uses the POD / version 1 EIP-712 domain", async () => {
      const core = await connection.networkHelpers.loadFixture(coreFixture);
      const [, name, version, chainId, verifyingContract] = await core.podToken.read.eip712Domain();
      assert.equal(name, "POD");
      assert.equal(version, "1");
      assert.equal(chainId, BigInt(await core.publicClient.getChainId()));
      assert.equal(getAddress(verifyingContract), getAddress(core.podToken.address));
    });

    it("sets an allowance from a valid signature, submitted by anyone, and burns the nonce", async () => {
      const core = await connection.networkHelpers.loadFixture(coreFixture);
      const { podToken, alice, bob, carol } = core;
      const a = getAddress(alice.account.address);
      const b = getAddress(bob.account.address);
      const message = { owner: a, spender: b, value: 42n * POD, nonce: 0n, deadline: (await now(connection)) + 3600n };
      const { signature, r, s, v } = await signPermit(core, alice, message);

      assert.equal(await podToken.read.nonces([a]), 0n);
      const permitted = podToken.write.permit([a, b, message.value, message.deadline, v, r, s], { account: carol.account });
      await viem.assertions.emitWithArgs(permitted, podToken, "Approval", [a, b, 42n * POD]);
      assert.equal(await podToken.read.allowance([a, b]), 42n * POD);
      assert.equal(await podToken.read.nonces([a]), 1n);

      // Replaying the same signature now recovers some other address (the nonce moved on).
      const recovered = await recoverTypedDataAddress({
        domain: await permitDomain(core),
        types: permitTypes,
        primaryType: "Permit",
        message: { ...message, nonce: 1n },
        signature,
      });
      await viem.assertions.revertWithCustomErrorWithArgs(
        podToken.write.permit([a, b, message.value, message.deadline, v, r, s], { account: carol.account }),
        podToken,
        "ERC2612InvalidSigner",
        [recovered, a],
      );
      await podToken.write.transferFrom([a, b, 42n * POD], { account: bob.account });
      assert.equal(await podToken.read.balanceOf([b]), USER_BALANCE + 42n * POD);
    });

    it("accepts a permit until its deadline second and rejects it one second after", async () => {
      const core = await connection.networkHelpers.loadFixture(coreFixture);
      const { podToken, alice, bob } = core;
      const a = getAddress(alice.account.address);
      const b = getAddress(bob.account.address);
      const deadline = (await now(connection)) + 1000n;
      const message = { owner: a, spender: b, value: 7n, nonce: 0n, deadline };
      const { r, s, v } = await signPermit(core, alice, message);

      const snap = await connection.networkHelpers.takeSnapshot();
      await nextAt(connection, deadline + 1n);
      await viem.assertions.revertWithCustomErrorWithArgs(
        podToken.write.permit([a, b, 7n, deadline, v, r, s], { account: bob.account }),
        podToken,
        "ERC2612ExpiredSignature",
        [deadline],
      );
      await snap.restore();

      await nextAt(connection, deadline);
      await viem.assertions.emitWithArgs(
        podToken.write.permit([a, b, 7n, deadline, v, r, s], { account: bob.account }),
        podToken,
        "Approval",
        [a, b, 7n],
      );
    });

    it("rejects a permit signed by someone other than the owner", async () => {
      const core = await connection.networkHelpers.loadFixture(coreFixture);
      const { podToken, alice, bob } = core;
      const a = getAddress(alice.account.address);
      const b = getAddress(bob.account.address);
      const message = { owner: a, spender: b, value: 1000n * POD, nonce: 0n, deadline: (await now(connection)) + 3600n };
      const { r, s, v } = await signPermit(core, bob, message);
      await viem.assertions.revertWithCustomErrorWithArgs(
        podToken.write.permit([a, b, message.value, message.deadline, v, r, s], { account: bob.account }),
        podToken,
        "ERC2612InvalidSigner",
        [b, a],
      );
      assert.equal(await podToken.read.allowance([a, b]), 0n);
      assert.equal(await podToken.read.nonces([a]), 0n);
    });
  });
});
