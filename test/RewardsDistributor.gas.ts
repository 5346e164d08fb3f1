// Claim gas on a real 1,000-leaf tree (10 levels), asserted against the issue's targets: a new
// claimer <= 80k, a repeat claim <= 60k (Morpho URD-style reference 70-93k and 53-58k). A liquid
// claim reads two slots of the distributor (the root's window, the account's claimed) and writes
// one; POD's transfer costs ~17.6k of it (two cold delegate reads for its votes included).
import assert from "node:assert/strict";
import { network } from "hardhat";
import { getAddress, keccak256, numberToHex, type Address, type Hash } from "viem";
import { POD } from "./helpers/fixture.ts";
import { epochRootOf, proposeAndAccept, rewardsFixture, rewardTree } from "./helpers/rewards.ts";

const connection = await network.create();
const fixture = rewardsFixture(connection);

const NEW_CLAIMER_TARGET = 80_000n;
const REPEAT_CLAIM_TARGET = 60_000n;

/** 1,000 leaves: the four funded users and 996 deterministic fresh accounts. */
function accounts(users: readonly Address[]): Address[] {
  const fresh = Array.from({ length: 1000 - users.length }, (_, i) =>
    getAddress(`0x${keccak256(numberToHex(i, { size: 32 })).slice(26)}`),
  );
  return [...users, ...fresh];
}

describe("RewardsDistributor claim gas (1,000-leaf tree)", () => {
  it("prints claim gas and meets the targets", async () => {
    const core = await connection.networkHelpers.loadFixture(fixture);
    const { rewardsDistributor: rd, publicClient } = core;
    const users = [core.alice, core.bob, core.carol, core.dave].map((w) => getAddress(w.account.address));
    const all = accounts(users);
    const [alice, , carol] = users as [Address, Address, Address];
    const freshAccount = all[500]!;

    const rewardsAt = (epoch: bigint) => Object.fromEntries(all.map((a, i) => [a, (BigInt(i) + 1n) * POD * (epoch + 1n)]));
    const tree0 = rewardTree(rewardsAt(0n));
    const tree1 = rewardTree(rewardsAt(1n));
    assert.equal(tree0.proof(alice).length, 10);

    const gas = async (hash: Promise<Hash>) => (await publicClient.waitForTransactionReceipt({ hash: await hash })).gasUsed;
    const claim = (tree: typeof tree0, account: Address, epoch: bigint) =>
      rd.write.claim([account, rewardsAt(epoch)[account]!, tree.proof(account), false]);

    await proposeAndAccept(connection, core, epochRootOf(0n, tree0.root, tree0.total));
    const firstAfterRoot = await gas(claim(tree0, carol, 0n));
    const newClaimer = await gas(claim(tree0, alice, 0n));
    const newClaimerNoPod = await gas(claim(tree0, freshAccount, 0n));
    await proposeAndAccept(connection, core, epochRootOf(1n, tree1.root, tree1.total - tree0.total));
    const repeat = await gas(claim(tree1, alice, 1n));

    const rows: [string, bigint, bigint?][] = [
      ["claim, new claimer (holds POD)", newClaimer, NEW_CLAIMER_TARGET],
      ["claim, new claimer (first POD)", newClaimerNoPod],
      ["claim, first after a root becomes claimable", firstAfterRoot, NEW_CLAIMER_TARGET],
      ["claim, repeat (holds POD)", repeat, REPEAT_CLAIM_TARGET],
    ];
    for (const [action, used, target] of rows) {
      console.log(`      ${action.padEnd(48)} ${String(used).padStart(7)}${target ? ` (target <= ${target})` : ""}`);
    }
    assert.ok(newClaimer <= NEW_CLAIMER_TARGET, `new claimer used ${newClaimer}`);
    assert.ok(firstAfterRoot <= NEW_CLAIMER_TARGET, `first claim after a root used ${firstAfterRoot}`);
    assert.ok(repeat <= REPEAT_CLAIM_TARGET, `repeat claim used ${repeat}`);
  });
});
