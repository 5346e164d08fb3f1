import assert from "node:assert/strict";
import { network } from "hardhat";
import { getAddress, keccak256, toHex, zeroHash } from "viem";
import { deployCore, POD } from "./helpers/fixture.ts";

const connection = await network.create();
const coreFixture = () => deployCore(connection);
const role = (name: string) => keccak256(toHex(name));

describe("PodCore Ignition module", () => {
  it("wires every contract and leaves the deployer with no power", async () => {
    const core = await connection.networkHelpers.loadFixture(coreFixture);
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
});
