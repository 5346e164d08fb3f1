import assert from "node:assert/strict";
import { network } from "hardhat";
import { getAddress, zeroAddress } from "viem";
import { DAY, now, paramName, POD } from "./helpers/fixture.ts";
import { depositUsd, deployCredit, grantDigest, grantIdOf, makeGrant, settleAs, signedUsage, USD } from "./helpers/credit.ts";
import { mineAt, nextAt } from "./helpers/unit.ts";

const connection = await network.create();
const fixture = () => deployCredit(connection);
const { viem } = connection;
const load = () => connection.networkHelpers.loadFixture(fixture);

describe("CreditVault", () => {
  describe("deployment and admin", () => {
    it("is owned by the governance timelock and sends revenue to the protocol's buyback", async () => {
      const { creditVault, protocolParams, governance, buybackAddress, usd, podToken } = await load();
      assert.equal(await creditVault.read.owner(), governance);
      assert.equal(await creditVault.read.buyback(), buybackAddress);
      assert.equal(await creditVault.read.params(), getAddress(protocolParams.address));
      assert.equal(await creditVault.read.isAccepted([usd.address]), true);
      assert.equal(await creditVault.read.isAccepted([podToken.address]), true);
      assert.equal(await creditVault.read.isAccepted([zeroAddress]), false);
    });

    it("governance accepts and unaccepts assets (AssetAcceptanceChanged); the zero address is refused", async () => {
      const { creditVault, usd, governance } = await load();
      const asset = getAddress(usd.address);
      const off = creditVault.write.setAssetAccepted([asset, false], { account: governance });
      await viem.assertions.emitWithArgs(off, creditVault, "AssetAcceptanceChanged", [asset, false]);
      assert.equal(await creditVault.read.isAccepted([asset]), false);
      const on = creditVault.write.setAssetAccepted([asset, true], { account: governance });
      await viem.assertions.emitWithArgs(on, creditVault, "AssetAcceptanceChanged", [asset, true]);
      assert.equal(await creditVault.read.isAccepted([asset]), true);
      await viem.assertions.revertWithCustomError(
        creditVault.write.setAssetAccepted([zeroAddress, true], { account: governance }),
        creditVault,
        "ZeroAddress",
      );
    });

    it("governance moves the buyback (BuybackChanged); the zero address is refused", async () => {
      const { creditVault, governance, buybackAddress, c } = await load();
      await viem.assertions.emitWithArgs(
        creditVault.write.setBuyback([c], { account: governance }),
        creditVault,
        "BuybackChanged",
        [buybackAddress, c],
      );
      assert.equal(await creditVault.read.buyback(), c);
      await viem.assertions.revertWithCustomError(
        creditVault.write.setBuyback([zeroAddress], { account: governance }),
        creditVault,
        "ZeroAddress",
      );
    });

    it("refuses admin calls from anyone but the owner (OwnableUnauthorizedAccount)", async () => {
      const { creditVault, usd, alice, a } = await load();
      await viem.assertions.revertWithCustomErrorWithArgs(
        creditVault.write.setAssetAccepted([usd.address, false], { account: alice.account }),
        creditVault,
        "OwnableUnauthorizedAccount",
        [a],
      );
      await viem.assertions.revertWithCustomErrorWithArgs(
        creditVault.write.setBuyback([a], { account: alice.account }),
        creditVault,
        "OwnableUnauthorizedAccount",
        [a],
      );
    });

    it("grantId and grantDigest match the SDK's EIP-712 encoding", async () => {
      const env = await load();
      const grant = await makeGrant(connection, env, env.alice, { cap: 12_345n, nonce: 2n ** 200n });
      assert.equal(await env.creditVault.read.grantId([grant]), grantIdOf(grant));
      assert.equal(await env.creditVault.read.grantDigest([grant]), grantDigest(env, grant));
    });
  });

  describe("deposits", () => {
    it("credits the caller with what arrived (CreditDeposited) in either accepted asset", async () => {
      const { creditVault, usd, podToken, alice, a, vault } = await load();
      const tx = creditVault.write.deposit([usd.address, 250n * USD], { account: alice.account });
      await viem.assertions.emitWithArgs(tx, creditVault, "CreditDeposited", [a, getAddress(usd.address), a, 250n * USD]);
      await viem.assertions.emitWithArgs(tx, usd, "Transfer", [a, vault, 250n * USD]);
      await creditVault.write.deposit([podToken.address, 3n * POD], { account: alice.account });
      assert.equal(await creditVault.read.creditOf([a, usd.address]), 250n * USD);
      assert.equal(await creditVault.read.creditOf([a, podToken.address]), 3n * POD);
      assert.equal(await usd.read.balanceOf([vault]), 250n * USD);
      assert.equal(await podToken.read.balanceOf([vault]), 3n * POD);
    });

    it("depositFor credits another account from the payer's tokens", async () => {
      const { creditVault, usd, carol, bob, c } = await load();
      const b = getAddress(bob.account.address);
      const tx = creditVault.write.depositFor([b, usd.address, 40n * USD], { account: carol.account });
      await viem.assertions.emitWithArgs(tx, creditVault, "CreditDeposited", [b, getAddress(usd.address), c, 40n * USD]);
      assert.equal(await creditVault.read.creditOf([b, usd.address]), 40n * USD);
      assert.equal(await creditVault.read.creditOf([c, usd.address]), 0n);
      assert.equal(await usd.read.balanceOf([c]), 1_000_000n * USD - 40n * USD);
    });

    it("refuses a zero amount, the zero account and an unaccepted asset", async () => {
      const { creditVault, usd, alice, stakedPod } = await load();
      await viem.assertions.revertWithCustomError(
        creditVault.write.deposit([usd.address, 0n], { account: alice.account }),
        creditVault,
        "ZeroAmount",
      );
      await viem.assertions.revertWithCustomError(
        creditVault.write.depositFor([zeroAddress, usd.address, 1n], { account: alice.account }),
        creditVault,
        "ZeroAddress",
      );
      await viem.assertions.revertWithCustomErrorWithArgs(
        creditVault.write.deposit([stakedPod.address, 1n], { account: alice.account }),
        creditVault,
        "AssetNotAccepted",
        [getAddress(stakedPod.address)],
      );
    });

    it("needs the payer's approval (the token's ERC20InsufficientAllowance)", async () => {
      const { creditVault, usd, bob, vault } = await load();
      await usd.write.mint([bob.account.address, 10n * USD]);
      await viem.assertions.revertWithCustomErrorWithArgs(
        creditVault.write.deposit([usd.address, 10n * USD], { account: bob.account }),
        usd,
        "ERC20InsufficientAllowance",
        [vault, 0n, 10n * USD],
      );
    });

    it("unaccepting an asset stops new deposits only: its credit still settles and withdraws", async () => {
      const env = await load();
      const { creditVault, usd, alice, a, governance, buybackAddress } = env;
      await depositUsd(env, alice, 100n * USD);
      await creditVault.write.setAssetAccepted([usd.address, false], { account: governance });
      await viem.assertions.revertWithCustomErrorWithArgs(
        creditVault.write.deposit([usd.address, 1n], { account: alice.account }),
        creditVault,
        "AssetNotAccepted",
        [getAddress(usd.address)],
      );
      const grant = await makeGrant(connection, env, alice);
      await settleAs(env, [await signedUsage(env, alice, grant, 30n * USD)]);
      assert.equal(await usd.read.balanceOf([buybackAddress]), 30n * USD);
      await creditVault.write.requestWithdrawal([usd.address, 70n * USD], { account: alice.account });
      await mineAt(connection, (await now(connection)) + 3n * DAY);
      await creditVault.write.completeWithdrawal([usd.address], { account: alice.account });
      assert.equal(await creditVault.read.creditOf([a, usd.address]), 0n);
      assert.equal(await usd.read.balanceOf([a]), 1_000_000n * USD - 30n * USD);
    });
  });

  describe("revokeGrant", () => {
    it("records the revocation time of any nonce, once (GrantRevocationRecorded, AlreadyRevoked)", async () => {
      const { creditVault, alice, a } = await load();
      const at = (await now(connection)) + 10n;
      await nextAt(connection, at);
      await viem.assertions.emitWithArgs(
        creditVault.write.revokeGrant([42n], { account: alice.account }),
        creditVault,
        "GrantRevocationRecorded",
        [a, 42n, at],
      );
      assert.equal(await creditVault.read.revokedAt([a, 42n]), at);
      assert.equal(await creditVault.read.revokedAt([a, 43n]), 0n);
      await viem.assertions.revertWithCustomErrorWithArgs(
        creditVault.write.revokeGrant([42n], { account: alice.account }),
        creditVault,
        "AlreadyRevoked",
        [a, 42n],
      );
    });
  });

  describe("withdrawals", () => {
    it("pays after the governed delay, not a second before (WithdrawalRequested, WithdrawalNotReady, WithdrawalCompleted)", async () => {
      const env = await load();
      const { creditVault, usd, alice, a, vault } = env;
      const asset = getAddress(usd.address);
      await depositUsd(env, alice, 100n * USD);
      const at = (await now(connection)) + 5n;
      await nextAt(connection, at);
      const readyAt = at + 3n * DAY;
      await viem.assertions.emitWithArgs(
        creditVault.write.requestWithdrawal([asset, 60n * USD], { account: alice.account }),
        creditVault,
        "WithdrawalRequested",
        [a, asset, 60n * USD, readyAt],
      );
      assert.deepEqual(await creditVault.read.withdrawalOf([a, asset]), { amount: 60n * USD, readyAt });
      await nextAt(connection, readyAt - 1n);
      await viem.assertions.revertWithCustomErrorWithArgs(
        creditVault.write.completeWithdrawal([asset], { account: alice.account }),
        creditVault,
        "WithdrawalNotReady",
        [a, asset, readyAt],
      );
      await nextAt(connection, readyAt);
      const done = creditVault.write.completeWithdrawal([asset], { account: alice.account });
      await viem.assertions.emitWithArgs(done, creditVault, "WithdrawalCompleted", [a, asset, 60n * USD]);
      await viem.assertions.emitWithArgs(done, usd, "Transfer", [vault, a, 60n * USD]);
      assert.equal(await creditVault.read.creditOf([a, asset]), 40n * USD);
      assert.deepEqual(await creditVault.read.withdrawalOf([a, asset]), { amount: 0n, readyAt: 0n });
      await viem.assertions.revertWithCustomErrorWithArgs(
        creditVault.write.completeWithdrawal([asset], { account: alice.account }),
        creditVault,
        "NoPendingWithdrawal",
        [a, asset],
      );
    });

    it("a new request replaces the pending one and restarts the delay; the delay is governed", async () => {
      const env = await load();
      const { creditVault, protocolParams, usd, alice, a, governance } = env;
      await depositUsd(env, alice, 100n * USD);
      await creditVault.write.requestWithdrawal([usd.address, 10n * USD], { account: alice.account });
      await protocolParams.write.setParameter([paramName("creditWithdrawalDelay"), 2n * DAY], { account: governance });
      const at = (await now(connection)) + DAY;
      await nextAt(connection, at);
      await creditVault.write.requestWithdrawal([usd.address, 20n * USD], { account: alice.account });
      assert.deepEqual(await creditVault.read.withdrawalOf([a, usd.address]), { amount: 20n * USD, readyAt: at + 2n * DAY });
    });

    it("credit stays spendable while pending: the payout is capped at what settlement left", async () => {
      const env = await load();
      const { creditVault, usd, alice, a } = env;
      await depositUsd(env, alice, 100n * USD);
      await creditVault.write.requestWithdrawal([usd.address, 100n * USD], { account: alice.account });
      const grant = await makeGrant(connection, env, alice);
      await settleAs(env, [await signedUsage(env, alice, grant, 35n * USD)]);
      await mineAt(connection, (await now(connection)) + 3n * DAY);
      await viem.assertions.emitWithArgs(
        creditVault.write.completeWithdrawal([usd.address], { account: alice.account }),
        creditVault,
        "WithdrawalCompleted",
        [a, getAddress(usd.address), 65n * USD],
      );
      assert.equal(await creditVault.read.creditOf([a, usd.address]), 0n);
      assert.equal(await usd.read.balanceOf([a]), 1_000_000n * USD - 35n * USD);
    });

    it("cancel drops the request (WithdrawalCancelled); nothing pending refuses cancel; zero is refused", async () => {
      const env = await load();
      const { creditVault, usd, alice, a } = env;
      const asset = getAddress(usd.address);
      await depositUsd(env, alice, 100n * USD);
      await creditVault.write.requestWithdrawal([asset, 30n * USD], { account: alice.account });
      await viem.assertions.emitWithArgs(
        creditVault.write.cancelWithdrawal([asset], { account: alice.account }),
        creditVault,
        "WithdrawalCancelled",
        [a, asset, 30n * USD],
      );
      assert.deepEqual(await creditVault.read.withdrawalOf([a, asset]), { amount: 0n, readyAt: 0n });
      await viem.assertions.revertWithCustomErrorWithArgs(
        creditVault.write.cancelWithdrawal([asset], { account: alice.account }),
        creditVault,
        "NoPendingWithdrawal",
        [a, asset],
      );
      await viem.assertions.revertWithCustomError(
        creditVault.write.requestWithdrawal([asset, 0n], { account: alice.account }),
        creditVault,
        "ZeroAmount",
      );
      assert.equal(await creditVault.read.creditOf([a, asset]), 100n * USD);
    });
  });
});
