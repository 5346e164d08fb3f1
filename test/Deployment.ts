import assert from "node:assert/strict";
import { network } from "hardhat";
import { getAddress, zeroHash, type Address } from "viem";
import { deployCore, POD } from "./helpers/fixture.ts";
import { role } from "./helpers/unit.ts";

const connection = await network.create();
const POOL_FUNDING = 50_000_000n * POD;
const networkFixture = () => deployCore(connection, { network: { rewardsPoolFunding: POOL_FUNDING } });

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

    const holds = async (contract: { read: { hasRole: (a: [Address, Address]) => Promise<boolean> } }, name: string, who: Address) =>
      contract.read.hasRole([name === "ADMIN" ? zeroHash : role(name), who]);

    assert.equal(await holds(bondManager, "SLASHER_ROLE", reports), true);
    assert.equal(await holds(bondManager, "BOND_FOR_ROLE", reports), true);
    assert.equal(await holds(bondManager, "BOND_FOR_ROLE", rewards), true);
    assert.equal(await holds(bondManager, "SLASHER_ROLE", rewards), false);
    for (const holder of [reports, tl, security]) {
      assert.equal(await holds(nodeRegistry, "SUSPENDER_ROLE", holder), true);
      assert.equal(await holds(nodeRegistry, "BANNER_ROLE", holder), true);
    }
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

    assert.equal(await core.securityTimelock.read.hasRole([role("PROPOSER_ROLE"), me]), true);
    assert.equal(await core.securityTimelock.read.getMinDelay(), 86_400n);
    assert.equal(await core.securityTimelock.read.hasRole([zeroHash, me]), false);
    assert.equal(await podToken.read.balanceOf([rewards]), POOL_FUNDING);
    assert.equal(await creditVault.read.isAccepted([podToken.address]), true);
    assert.equal(await creditVault.read.isAccepted([core.stablecoin.address]), true);
    assert.equal(await core.stablecoin.read.decimals(), 6);
    assert.equal(getAddress(await core.stablecoin.read.owner()), me);
  });
});
