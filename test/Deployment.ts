import assert from "node:assert/strict";
import { network } from "hardhat";
import { encodeFunctionData, getAddress, keccak256, toHex, zeroAddress, zeroHash, type Address } from "viem";
import PodDevnet from "../ignition/modules/PodDevnet.ts";
import { deployCore, POD } from "./helpers/fixture.ts";
import { role } from "./helpers/unit.ts";

const connection = await network.create();
const POOL_FUNDING = 50_000_000n * POD;
const networkFixture = () => deployCore(connection, { network: { rewardsPoolFunding: POOL_FUNDING } });

type RoleHolder = { read: { hasRole: (a: [Address, Address]) => Promise<boolean> } };
const ignitionDeploy = (params: Record<string, unknown>) =>
  connection.ignition.deploy(PodDevnet, { parameters: { PodDevnet: params as never } });
const holds = (contract: RoleHolder, name: string, who: Address) => contract.read.hasRole([name === "ADMIN" ? zeroHash : role(name), who]);

describe("PodNetwork Ignition module", () => {
  it("wires the staking core and leaves the deployer with no power over it", async () => {
    const core = await connection.networkHelpers.loadFixture(networkFixture);
    const { podToken, protocolParams, stakedPod, bondManager, timelock, governor, deployer } = core;
    const me = deployer.account.address;
    const tl = getAddress(timelock.address);

    assert.equal(await podToken.read.totalSupply(), 1_000_000_000n * POD);
    assert.equal(getAddress(await protocolParams.read.owner()), tl);
    assert.equal(getAddress(await stakedPod.read.owner()), tl);
    assert.equal(getAddress(await stakedPod.read.bondManager()), getAddress(bondManager.address));
    assert.equal(getAddress(await stakedPod.read.asset()), getAddress(podToken.address));
    assert.equal(getAddress(await bondManager.read.stakedPod()), getAddress(stakedPod.address));
    assert.equal(getAddress(await governor.read.timelock()), tl);
    assert.equal(getAddress(await governor.read.token()), getAddress(podToken.address));

    assert.equal(await bondManager.read.hasRole([zeroHash, tl]), true);
    assert.equal(await bondManager.read.hasRole([role("SLASHER_ROLE"), tl]), true);
    assert.equal(await bondManager.read.hasRole([zeroHash, me]), false);
    assert.equal(await timelock.read.hasRole([role("PROPOSER_ROLE"), governor.address]), true);
    assert.equal(await timelock.read.hasRole([role("CANCELLER_ROLE"), governor.address]), true);
    assert.equal(await timelock.read.hasRole([zeroHash, me]), false);
    assert.equal(await timelock.read.hasRole([zeroHash, tl]), true);
    assert.equal(await timelock.read.getMinDelay(), 2n * 86_400n);
  });

  it("wires settlement: each contract holds exactly the roles its job needs, the timelocks the rest", async () => {
    const core = await connection.networkHelpers.loadFixture(networkFixture);
    const { bondManager, nodeRegistry, rewardsDistributor, buyback, creditVault, nodeReports, podToken } = core;
    const me = getAddress(core.deployer.account.address);
    const tl = getAddress(core.timelock.address);
    const security = getAddress(core.securityTimelock.address);
    const reports = getAddress(nodeReports.address);
    const rewards = getAddress(rewardsDistributor.address);

    assert.equal(await holds(bondManager, "SLASHER_ROLE", reports), true);
    assert.equal(await holds(bondManager, "BOND_FOR_ROLE", reports), true);
    assert.equal(await holds(bondManager, "FREEZER_ROLE", reports), true);
    assert.equal(await holds(bondManager, "BOND_FOR_ROLE", rewards), true);
    assert.equal(await holds(bondManager, "SLASHER_ROLE", rewards), false);
    for (const holder of [tl, rewards, me]) assert.equal(await holds(bondManager, "FREEZER_ROLE", holder), false);
    for (const holder of [reports, tl, security]) assert.equal(await holds(nodeRegistry, "SUSPENDER_ROLE", holder), true);
    // Bans are for good: only governance and confirmed reports ban, never the security timelock.
    for (const holder of [reports, tl]) assert.equal(await holds(nodeRegistry, "BANNER_ROLE", holder), true);
    assert.equal(await holds(nodeRegistry, "BANNER_ROLE", security), false);
    assert.equal(await nodeReports.read.reportsToSuspend(), 2n);
    assert.equal(await holds(rewardsDistributor, "POOL_SPENDER_ROLE", reports), true);
    assert.equal(await holds(rewardsDistributor, "GUARDIAN_ROLE", me), true);
    assert.equal(await holds(nodeReports, "CONFIRMER_ROLE", tl), true);
    assert.equal(await holds(nodeReports, "CONFIRMER_ROLE", security), true);
    for (const contract of [bondManager, nodeRegistry, rewardsDistributor, nodeReports]) {
      assert.equal(await holds(contract, "ADMIN", tl), true);
      assert.equal(await holds(contract, "ADMIN", me), false);
    }
    assert.equal(getAddress(await buyback.read.owner()), tl);
    assert.equal(getAddress(await creditVault.read.owner()), tl);
    assert.equal(getAddress(await buyback.read.rewardsPool()), rewards);
    assert.equal(getAddress(await creditVault.read.buyback()), getAddress(buyback.address));

    // The fixture names the deployer as security council: it proposes and cancels, nothing more.
    const { securityTimelock } = core;
    assert.equal(await holds(securityTimelock, "PROPOSER_ROLE", me), true);
    assert.equal(await holds(securityTimelock, "CANCELLER_ROLE", me), true);
    assert.equal(await holds(securityTimelock, "CANCELLER_ROLE", tl), true, "governance cancels security operations");
    assert.equal(await holds(securityTimelock, "PROPOSER_ROLE", tl), false);
    assert.equal(await holds(securityTimelock, "ADMIN", me), false);
    assert.equal(await holds(securityTimelock, "ADMIN", security), true);
    assert.equal(await holds(securityTimelock, "EXECUTOR_ROLE", zeroAddress), true);
    assert.equal(await securityTimelock.read.getMinDelay(), 86_400n);
    assert.equal(await podToken.read.balanceOf([rewards]), POOL_FUNDING);
    assert.equal(await creditVault.read.isAccepted([podToken.address]), true);
    assert.equal(await creditVault.read.isAccepted([core.stablecoin.address]), true);
    assert.equal(await core.stablecoin.read.decimals(), 6);
    assert.equal(getAddress(await core.stablecoin.read.owner()), me);
  });

  it("takes guardian, security council and reportsToSuspend as given: the deployer keeps no role", async () => {
    const [, alice, bob] = await connection.viem.getWalletClients();
    if (!alice || !bob) throw new Error("expected funded accounts");
    const guardian = getAddress(alice.account.address);
    const council = getAddress(bob.account.address);
    const core = await deployCore(connection, { network: { guardian, securityCouncil: council, reportsToSuspend: 3n } });
    const me = getAddress(core.deployer.account.address);
    const { rewardsDistributor, securityTimelock, nodeReports } = core;
    assert.equal(await holds(rewardsDistributor, "GUARDIAN_ROLE", guardian), true);
    assert.equal(await holds(rewardsDistributor, "GUARDIAN_ROLE", me), false);
    for (const name of ["PROPOSER_ROLE", "CANCELLER_ROLE"]) {
      assert.equal(await holds(securityTimelock, name, council), true);
      assert.equal(await holds(securityTimelock, name, me), false);
    }
    assert.equal(await holds(securityTimelock, "ADMIN", me), false);
    assert.equal(await nodeReports.read.reportsToSuspend(), 3n);

    // Governance cancels an operation the council scheduled on the security timelock.
    const tl = getAddress(core.timelock.address);
    await connection.networkHelpers.impersonateAccount(tl);
    await connection.networkHelpers.setBalance(tl, 10n ** 20n);
    const data = encodeFunctionData({ abi: nodeReports.abi, functionName: "dismissReport", args: [1n, zeroHash] });
    const salt = keccak256(toHex("cancelled by governance"));
    await securityTimelock.write.schedule([nodeReports.address, 0n, data, zeroHash, salt, 86_400n], { account: bob.account });
    const id = await securityTimelock.read.hashOperation([nodeReports.address, 0n, data, zeroHash, salt]);
    await connection.viem.assertions.emitWithArgs(securityTimelock.write.cancel([id], { account: tl }), securityTimelock, "Cancelled", [id]);
    assert.equal(await securityTimelock.read.isOperation([id]), false);
  });

  it("refuses to deploy without a guardian or a security council (no default: the deployer)", async () => {
    const [deployer] = await connection.viem.getWalletClients();
    if (!deployer) throw new Error("expected a funded account");
    const me = deployer.account.address;
    for (const missing of ["guardian", "securityCouncil"]) {
      const params: Record<string, unknown> = { oracles: [me], guardian: me, securityCouncil: me };
      delete params[missing];
      await assert.rejects(ignitionDeploy(params), new RegExp(`Module parameter '${missing}' requires a value`));
    }
  });
});
