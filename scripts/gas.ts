/**
 * Prints the gas used by every user action of the protocol, measured on a fresh
 * in-process chain with the real Ignition deployment, beside the targets where one is set.
 *
 *   npm run gas
 */
import { network } from "hardhat";
import { encodeFunctionData, keccak256, parseEther, stringToHex, toHex, type Hash } from "viem";
import PodDevnet from "../ignition/modules/PodDevnet.ts";
import { measureSettlement } from "./gasSettlement.ts";

const connection = await network.create();
const { viem, ignition, networkHelpers } = connection;
const publicClient = await viem.getPublicClient();
const [treasury, alice, bob, carol] = await viem.getWalletClients();
if (!treasury || !alice || !bob || !carol) throw new Error("expected four accounts");
const me = treasury.account.address;
const { podToken, stakedPod, bondManager, protocolParams, governor, timelock } = await ignition.deploy(PodDevnet, {
  parameters: { PodDevnet: { oracles: [me], guardian: me, securityCouncil: me } },
});

interface Row {
  action: string;
  gas: bigint;
  target?: bigint;
}
const rows: Row[] = [];
async function measure(action: string, tx: Promise<Hash>, target?: bigint) {
  const receipt = await publicClient.waitForTransactionReceipt({ hash: await tx });
  if (receipt.status !== "success") throw new Error(`${action} reverted`);
  rows.push({ action, gas: receipt.gasUsed, target });
}

const DAY = 86_400n;
const as = (w: typeof alice) => ({ account: w.account });
// Alice alone holds more than the 4% quorum, so her proposal passes.
for (const [user, amount] of [[alice, "60000000"], [bob, "30000000"], [carol, "30000000"]] as const) {
  await podToken.write.transfer([user.account.address, parseEther(amount)]);
}

// POD
await measure("POD transfer (undelegated accounts)", podToken.write.transfer([carol.account.address, 1n], as(bob)));
await measure("POD approve", podToken.write.approve([stakedPod.address, parseEther("30000000")], as(alice)));
await podToken.write.approve([stakedPod.address, parseEther("30000000")], as(bob));
await podToken.write.approve([stakedPod.address, parseEther("30000000")], as(carol));

// Staking
await measure("sPOD first deposit into the empty vault", stakedPod.write.deposit([parseEther("1000"), carol.account.address], as(carol)));
await measure(
  "sPOD deposit by a new account",
  stakedPod.write.deposit([parseEther("20000000"), alice.account.address], as(alice)),
  80_000n,
);
await measure("sPOD deposit by an existing holder", stakedPod.write.deposit([parseEther("1000"), alice.account.address], as(alice)));
await measure("POD delegate (self)", podToken.write.delegate([bob.account.address], as(bob)));
await measure(
  "sPOD deposit by a new account with delegated POD",
  stakedPod.write.deposit([parseEther("1000000"), bob.account.address], as(bob)),
);
await measure("sPOD delegate (self)", stakedPod.write.delegate([alice.account.address], as(alice)));
await podToken.write.delegate([alice.account.address], as(alice));
await podToken.write.transfer([stakedPod.address, parseEther("100000")]);
await measure("sPOD checkpointRate after a donation", stakedPod.write.checkpointRate());
const aliceShares = await stakedPod.read.balanceOf([alice.account.address]);
await measure("sPOD transfer", stakedPod.write.transfer([carol.account.address, aliceShares / 100n], as(alice)));

// Bonding
await measure("bond (first)", bondManager.write.bond([aliceShares / 4n], as(alice)), 120_000n);
await measure("bond (again, delegated account)", bondManager.write.bond([aliceShares / 8n], as(alice)), 120_000n);
await measure("requestUnbond", bondManager.write.requestUnbond([aliceShares / 16n], as(alice)));
await measure("cancelUnbond", bondManager.write.cancelUnbond(as(alice)));
await bondManager.write.requestUnbond([aliceShares / 16n], as(alice));

// Governance: Alice proposes and votes.
const calldata = encodeFunctionData({
  abi: protocolParams.abi,
  functionName: "setParameter",
  args: [stringToHex("lambdaUpPpm", { size: 32 }), 600_000n],
});
const proposal = [[protocolParams.address], [0n], [calldata]] as const;
const description = "Raise lambdaUp";
await measure("governor propose", governor.write.propose([...proposal, description], as(alice)));
const proposalId = await governor.read.hashProposal([...proposal, keccak256(toHex(description))]);
await networkHelpers.time.increaseTo((await governor.read.proposalSnapshot([proposalId])) + 1n);
await measure("governor castVote", governor.write.castVote([proposalId, 1], as(alice)), 90_000n);
await measure("governor castVote (a second voter)", governor.write.castVote([proposalId, 0], as(bob)), 90_000n);
await networkHelpers.time.increaseTo((await governor.read.proposalDeadline([proposalId])) + 1n);
await measure("governor queue", governor.write.queue([...proposal, keccak256(toHex(description))]));
await networkHelpers.time.increaseTo((await governor.read.proposalEta([proposalId])) + 1n);
await measure("governor execute (parameter change)", governor.write.execute([...proposal, keccak256(toHex(description))]));

// Leaving: unstake window and unbonding (3 months later).
await measure("sPOD cooldown", stakedPod.write.cooldown([aliceShares / 10n], as(alice)));
await networkHelpers.time.increase(90n * DAY);
await measure("sPOD redeem in the unstake window", stakedPod.write.redeem([aliceShares / 20n, alice.account.address, alice.account.address], as(alice)));
await measure("sPOD withdraw in the unstake window", stakedPod.write.withdraw([parseEther("1000"), alice.account.address, alice.account.address], as(alice)));
await measure("withdrawUnbonded", bondManager.write.withdrawUnbonded(as(alice)));
await networkHelpers.impersonateAccount(timelock.address);
await networkHelpers.setBalance(timelock.address, parseEther("1"));
await measure(
  "slash (by the slashing role)",
  bondManager.write.slash([alice.account.address, aliceShares / 100n, carol.account.address, toHex("evidence", { size: 32 })], {
    account: timelock.address,
  }),
);

// Settlement, on a fresh deployment of its own with real Uniswap V2.
await measureSettlement(await network.create(), (action, gas, target) => rows.push({ action, gas, target }));

const width = Math.max(...rows.map((r) => r.action.length));
console.log(`${"action".padEnd(width)}  ${"gas".padStart(9)}  ${"target".padStart(9)}  verdict`);
console.log("-".repeat(width + 32));
let missed = 0;
for (const { action, gas, target } of rows) {
  const verdict = target === undefined ? "" : gas <= target ? "ok" : "OVER";
  if (verdict === "OVER") missed += 1;
  console.log(
    `${action.padEnd(width)}  ${gas.toLocaleString("en-US").padStart(9)}  ${(target?.toLocaleString("en-US") ?? "").padStart(9)}  ${verdict}`,
  );
}
console.log(missed === 0 ? "\nAll gas targets met." : `\n${missed} gas target(s) missed (see README: Gas).`);

