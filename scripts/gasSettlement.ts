/**
 * Gas of every settlement action (registry, credit, buyback, rewards, reports), measured on a
 * fresh in-process chain with the real Ignition deployment and real Uniswap V2 (published
 * bytecode). Called by scripts/gas.ts, which prints the table.
 */
import { getAddress, keccak256, numberToHex, parseEther, toHex, type Address, type Hash } from "viem";
import type { NetworkConnection } from "hardhat/types/network";
import { EPOCH_ROOT_TYPES, settlementDomain, type EpochRoot } from "../sdk/src/typedData.ts";
import { deployBuybackWorld, TWAP_PERIOD } from "../test/helpers/buyback.ts";
import { grantees, signedGrants, USD } from "../test/helpers/credit.ts";
import { keyProof, METADATA, MODEL_A, MODEL_B, nodeKey } from "../test/helpers/registry.ts";
import { rewardTree, validatorTree } from "../test/helpers/rewards.ts";
import { stake } from "../test/helpers/unit.ts";

/** Records one measured action in the caller's table. */
export type Record = (action: string, gas: bigint, target?: bigint) => void;

const POD = 10n ** 18n;
const GRANTS = 100;
const LEAVES = 1000;

export async function measureSettlement(connection: NetworkConnection, record: Record): Promise<void> {
  const world = await deployBuybackWorld(connection);
  const measure = async (action: string, tx: Promise<Hash>, target?: bigint) => {
    const receipt = await world.publicClient.waitForTransactionReceipt({ hash: await tx });
    if (receipt.status !== "success") throw new Error(`${action} reverted`);
    record(action, receipt.gasUsed, target);
  };
  const { networkHelpers } = connection;
  const { nodeRegistry, creditVault, buyback, rewardsDistributor, nodeReports, podToken, bondManager, usd } = world;
  const { deployer, alice, bob, dave, owner: governance } = world;
  const as = (w: typeof alice) => ({ account: w.account });

  // Registry: alice runs a node.
  const key = nodeKey("gas");
  const proof = await keyProof(world, key, alice.account.address);
  await measure("registerNode (1 model)", nodeRegistry.write.registerNode([key.address, [MODEL_A], METADATA, proof], as(alice)));
  await measure("updateNode (2 models)", nodeRegistry.write.updateNode([key.address, [MODEL_A, MODEL_B], METADATA], as(alice)));
  await measure("deregisterNode", nodeRegistry.write.deregisterNode([key.address], as(alice)));
  // Each proof registers the key once (its nonce moved): rejoining takes a fresh one.
  const rejoinProof = await keyProof(world, key, alice.account.address);
  await measure("registerNode (rejoin)", nodeRegistry.write.registerNode([key.address, [MODEL_A], METADATA, rejoinProof], as(alice)));

  // Credit: 100 users deposit dUSD; the gateway (dave) settles their grants in one call.
  await creditVault.write.setAssetAccepted([usd.address, true], { account: governance });
  await usd.write.mint([alice.account.address, 10_000n * USD]);
  await usd.write.approve([creditVault.address, 2n ** 256n - 1n], as(alice));
  await measure("credit deposit (dUSD)", creditVault.write.deposit([usd.address, 10n * USD], as(alice)));
  const users = grantees(GRANTS);
  for (const user of users) await creditVault.write.depositFor([user.address, usd.address, 10n * USD], as(alice));
  const expiry = BigInt(await networkHelpers.time.latest()) + 30n * 86_400n;
  const target = {
    chainId: await world.publicClient.getChainId(),
    vault: getAddress(creditVault.address),
    gateway: getAddress(dave.account.address),
    asset: getAddress(usd.address),
  };
  const grants = await signedGrants(target, users, 5n * USD, expiry);
  const usage = (cumulativeSpent: bigint) => grants.map((g) => ({ ...g, cumulativeSpent }));
  await measure(`settle ${GRANTS} grants (first settlement of each)`, creditVault.write.settle([1n, usage(1n * USD)], as(dave)));
  await measure(`settle ${GRANTS} grants (later epoch)`, creditVault.write.settle([2n, usage(2n * USD)], as(dave)));
  await measure("credit requestWithdrawal", creditVault.write.requestWithdrawal([usd.address, 5n * USD], as(alice)));
  await measure("revokeGrant", creditVault.write.revokeGrant([7n], as(alice)));

  // Buyback: the settled dUSD is sold through the pair once the TWAP is a period old.
  await networkHelpers.time.increase(TWAP_PERIOD);
  await measure("buyBack dUSD (swap + split)", buyback.write.buyBack([usd.address, 2n ** 256n - 1n], as(bob)));
  await networkHelpers.time.increase(TWAP_PERIOD);
  await measure("observe (TWAP)", buyback.write.observe([usd.address], as(bob)));
  await podToken.write.transfer([buyback.address, parseEther("1000")]);
  await measure("buyBack POD (split only)", buyback.write.buyBack([podToken.address, 2n ** 256n - 1n], as(bob)));

  // Rewards: 1,000 accounts, two epochs; bob and carol are validator-eligible.
  await podToken.write.transfer([rewardsDistributor.address, 10_000_000n * POD]);
  const accounts: Address[] = [alice, bob, world.carol, dave].map((w) => getAddress(w.account.address));
  for (let i = accounts.length; i < LEAVES; i++) accounts.push(getAddress(`0x${keccak256(numberToHex(i, { size: 32 })).slice(26)}`));
  const rewardsAt = (epoch: bigint) => Object.fromEntries(accounts.map((a, i) => [a, (BigInt(i) + 1n) * POD * (epoch + 1n)]));
  const validators = validatorTree([getAddress(bob.account.address), getAddress(world.carol.account.address)]);
  const chainId = await world.publicClient.getChainId();
  const domain = settlementDomain("rewardsDistributor", chainId, rewardsDistributor.address);
  let previousTotal = 0n;
  const proposeEpoch = async (epoch: bigint) => {
    const tree = rewardTree(rewardsAt(epoch));
    const epochRoot: EpochRoot = {
      epoch,
      root: tree.root,
      total: tree.total - previousTotal,
      reportHash: keccak256(toHex(`report ${epoch}`)),
      validatorsRoot: validators.root,
    };
    previousTotal = tree.total;
    const [length, genesis] = await world.protocolParams.read.epochSchedule();
    const closesAt = genesis + (epoch + 1n) * length;
    if (BigInt(await networkHelpers.time.latest()) < closesAt) await networkHelpers.time.increaseTo(closesAt);
    const signature = await deployer.signTypedData({ account: deployer.account, domain, types: EPOCH_ROOT_TYPES, primaryType: "EpochRoot", message: epochRoot });
    await measure(`proposeRoot (1 oracle signature)`, rewardsDistributor.write.proposeRoot([epochRoot, [signature]]));
    const { claimableAt } = await rewardsDistributor.read.epochRecord([epoch]);
    await networkHelpers.time.increaseTo(claimableAt);
    return tree;
  };
  const claim = (tree: ReturnType<typeof rewardTree>, epoch: bigint, who: typeof alice, bonded: boolean) => {
    const account = getAddress(who.account.address);
    return rewardsDistributor.write.claim([account, rewardsAt(epoch)[account]!, tree.proof(account), bonded], as(who));
  };
  const tree0 = await proposeEpoch(0n);
  await claim(tree0, 0n, world.carol, false); // accepts root 0
  await measure(`claim liquid, new claimer (${LEAVES}-leaf tree)`, claim(tree0, 0n, alice, false), 80_000n);
  await measure("claim bonded, new claimer", claim(tree0, 0n, bob, true));
  const tree1 = await proposeEpoch(1n);
  await claim(tree1, 1n, world.carol, false); // accepts root 1
  await measure("claim liquid, repeat", claim(tree1, 1n, alice, false), 60_000n);

  // Reports: bob and carol (validators) report alice's bonded node; governance confirms bob's
  // and dismisses carol's, which the ban leaves open.
  const shares = await stake(world, alice, 100_000n * POD);
  await bondManager.write.bond([shares], as(alice));
  const evidence = keccak256(toHex("evidence"));
  const report = (who: typeof alice) =>
    nodeReports.write.reportNode([key.address, evidence, validators.proof(getAddress(who.account.address))], as(who));
  await measure("reportNode (first: freezes the bond)", report(bob));
  await measure("reportNode (second: also suspends)", report(world.carol));
  await measure("flagNode", nodeReports.write.flagNode([key.address, keccak256(toHex("flag"))], as(dave)));
  const maxSlash = await world.protocolParams.read.getParameter([toHex("maxSlashPpm", { size: 32 })]);
  await measure(
    "confirmReport (slash, reporter bond, burn share, ban, unfreeze)",
    nodeReports.write.confirmReport([1n, maxSlash], { account: governance }),
  );
  await measure("dismissReport (banned node: unfreeze)", nodeReports.write.dismissReport([2n, evidence], { account: governance }));
}
