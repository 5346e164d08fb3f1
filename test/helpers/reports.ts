import type { NetworkConnection } from "hardhat/types/network";
import { getAddress, keccak256, stringToHex, toHex, type Address, type Hex } from "viem";
import { EPOCH_ROOT_TYPES, settlementDomain, type EpochRoot } from "../../sdk/src/typedData.ts";
import { deployCore, now, POD, type Core } from "./fixture.ts";
import { nodeKey, registerNode } from "./registry.ts";
import { validatorTree } from "./rewards.ts";
import { mineAt, nextAt } from "./unit.ts";

/** POD the deployment sends to the node rewards pool (pays reporters of unbonded nodes). */
export const POOL_FUNDING = 100_000n * POD;
/** Short epochs so that a root is claimable soon after deployment. */
export const REPORT_PARAMS = { epochLength: 3600n, rootChallengeWindow: 600n };
export const EVIDENCE = keccak256(toHex("logprobs of receipt 0x01 differ from the reference prefill"));
export const REASON = stringToHex("false positive", { size: 32 });
export const PPM = 1_000_000n;

/** The proof that `account` is in `tree` (the validator tree of ./rewards.ts). */
export function validatorProof(tree: ReturnType<typeof validatorTree>, account: Address): Hex[] {
  return tree.proof(account);
}

/**
 * Proposes epoch 0's root, signed by the deployer (the default single oracle, quorum 1), with
 * `validators` as its validator-eligible accounts and no rewards, and waits out the challenge
 * window so that the root is the latest claimable one.
 */
export async function acceptValidators(connection: NetworkConnection, core: Core, validators: readonly Address[]) {
  const tree = validatorTree(validators);
  const epochRoot: EpochRoot = {
    epoch: 0n,
    root: keccak256(toHex("no rewards in epoch 0")),
    total: 0n,
    reportHash: keccak256(toHex("report of epoch 0")),
    validatorsRoot: tree.root,
  };
  const { deployer, rewardsDistributor, protocolParams, publicClient } = core;
  const domain = settlementDomain("rewardsDistributor", await publicClient.getChainId(), rewardsDistributor.address);
  const signature = await deployer.signTypedData({
    account: deployer.account,
    domain,
    types: EPOCH_ROOT_TYPES,
    primaryType: "EpochRoot",
    message: epochRoot,
  });
  const [length, genesis] = await protocolParams.read.epochSchedule();
  const closesAt = genesis + length;
  const latest = await now(connection);
  await nextAt(connection, closesAt > latest ? closesAt : latest + 1n);
  await rewardsDistributor.write.proposeRoot([epochRoot, [signature]], { account: deployer.account });
  const { claimableAt } = await rewardsDistributor.read.epochRecord([0n]);
  await mineAt(connection, claimableAt);
  return tree;
}

/** The node alice runs in the reports tests. */
export const NODE = nodeKey("reported");

/**
 * The protocol with a funded pool and short epochs; alice runs NODE; alice, bob and carol are
 * validator-eligible in the claimable epoch 0 (dave is not). Use as `() => deployReports(connection)`.
 */
export async function deployReports(connection: NetworkConnection) {
  const core = await deployCore(connection, { params: REPORT_PARAMS, network: { rewardsPoolFunding: POOL_FUNDING } });
  await registerNode(core, core.alice, NODE);
  const [a, b, c, d] = [core.alice, core.bob, core.carol, core.dave].map((w) => getAddress(w.account.address)) as [
    Address,
    Address,
    Address,
    Address,
  ];
  const tree = await acceptValidators(connection, core, [a, b, c]);
  return { ...core, tree, a, b, c, d, k: getAddress(NODE.address), nr: getAddress(core.nodeReports.address) };
}

export type ReportsCore = Awaited<ReturnType<typeof deployReports>>;

/** Files a report against NODE by `reporter` (bob by default) with EVIDENCE; returns its id. */
export async function fileReport(core: ReportsCore, reporter: Core["bob"] = core.bob, evidence: Hex = EVIDENCE): Promise<bigint> {
  const proof = validatorProof(core.tree, reporter.account.address);
  const { result } = await core.nodeReports.simulate.reportNode([core.k, evidence, proof], { account: reporter.account.address });
  await core.nodeReports.write.reportNode([core.k, evidence, proof], { account: reporter.account });
  return result;
}
