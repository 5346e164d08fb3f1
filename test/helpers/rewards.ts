import type { NetworkConnection } from "hardhat/types/network";
import { getAddress, keccak256, toHex, zeroHash, type Address, type Hash, type Hex } from "viem";
import { privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { CumulativeRewardTree, type CumulativeLeaf } from "../../sdk/src/merkle/tree.ts";
import { EPOCH_ROOT_TYPES, settlementDomain, type EpochRoot } from "../../sdk/src/typedData.ts";
import { deployCore, now, POD, type Core } from "./fixture.ts";
import { nextAt } from "./unit.ts";

/** Three oracle keys (fixed, test only), sorted by address as proposeRoot wants the signers. */
export const ORACLES: readonly PrivateKeyAccount[] = [
  "0x6a1e1f4c7a4b4e2f9d03c0b0a5f3a7e1c2d4b6a8e0f1a3c5b7d9e1f3a5c7e9b1",
  "0x3b5d7f9a1c3e5a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5a7c9e1b3d5f7a9c1e3b5d",
  "0x9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0",
]
  .map((key) => privateKeyToAccount(key as Hex))
  .sort((a, b) => (BigInt(a.address) < BigInt(b.address) ? -1 : 1));

/** A key that is no oracle. */
export const OUTSIDER = privateKeyToAccount("0x1111111111111111111111111111111111111111111111111111111111111111");

/** POD the deployment sends from the treasury to the rewards pool. */
export const POOL_FUNDING = 10_000_000n * POD;
export const QUORUM = 2n;

/**
 * A fixture (for loadFixture) of the whole protocol with three oracles (quorum 2) and a pool
 * funded with `funding` POD from the treasury.
 */
export function rewardsFixture(connection: NetworkConnection, params: Record<string, bigint> = {}, funding = POOL_FUNDING) {
  const rewardsDeployment = () =>
    deployCore(connection, {
      params,
      network: { rewardsPoolFunding: funding, oracles: ORACLES.map((o) => o.address), oracleQuorum: QUORUM },
    });
  return rewardsDeployment;
}

/** The oracles' epoch root of `tree` (total, report and validators root as given). */
export function epochRootOf(
  epoch: bigint,
  root: Hex,
  total: bigint,
  validatorsRoot: Hex = zeroHash,
): EpochRoot {
  return { epoch, root, total, reportHash: keccak256(toHex(`report of epoch ${epoch}`)), validatorsRoot };
}

/** EIP-712 signatures of `epochRoot` by `signers`, in the order given (sort them to be accepted). */
export async function signEpochRoot(
  core: Core,
  epochRoot: EpochRoot,
  signers: readonly PrivateKeyAccount[] = ORACLES.slice(0, 2),
): Promise<Hex[]> {
  const chainId = await core.publicClient.getChainId();
  const domain = settlementDomain("rewardsDistributor", chainId, core.rewardsDistributor.address);
  return Promise.all(
    signers.map((signer) =>
      signer.signTypedData({ domain, types: EPOCH_ROOT_TYPES, primaryType: "EpochRoot", message: epochRoot }),
    ),
  );
}

/** When `epoch` closes: genesis + (epoch + 1) * length. */
export async function epochClose(core: Core, epoch: bigint): Promise<bigint> {
  const [length, genesis] = await core.protocolParams.read.epochSchedule();
  return genesis + (epoch + 1n) * length;
}

/**
 * Proposes `epochRoot` signed by the first two oracles, in a block at the epoch's close or now,
 * whichever is later; returns the transaction hash.
 */
export async function propose(connection: NetworkConnection, core: Core, epochRoot: EpochRoot): Promise<Hash> {
  const signatures = await signEpochRoot(core, epochRoot);
  const closesAt = await epochClose(core, epochRoot.epoch);
  const latest = await now(connection);
  await nextAt(connection, closesAt > latest ? closesAt : latest + 1n);
  return core.rewardsDistributor.write.proposeRoot([epochRoot, signatures]);
}

/** Proposes `epochRoot` and moves time to when it becomes claimable. */
export async function proposeAndAccept(connection: NetworkConnection, core: Core, epochRoot: EpochRoot) {
  await propose(connection, core, epochRoot);
  const record = await core.rewardsDistributor.read.epochRecord([epochRoot.epoch]);
  await connection.networkHelpers.time.increaseTo(record.claimableAt);
  return record;
}

/** A cumulative-reward tree with its leaves by account. */
export function rewardTree(rewards: Record<Address, bigint>) {
  const leaves: CumulativeLeaf[] = Object.entries(rewards).map(([account, cumulativeReward]) => ({
    account: getAddress(account),
    cumulativeReward,
  }));
  const tree = CumulativeRewardTree.build(leaves);
  const total = leaves.reduce((sum, leaf) => sum + leaf.cumulativeReward, 0n);
  const proof = (account: Address): Hex[] => {
    const p = tree.proofFor(account);
    if (!p) throw new Error(`no leaf for ${account}`);
    return p;
  };
  return { root: tree.root, total, proof };
}

/** The validator-eligible accounts' tree (leaf: keccak256(bytes.concat(keccak256(abi.encode(account)))). */
export function validatorTree(accounts: readonly Address[]) {
  const tree = StandardMerkleTree.of(
    accounts.map((a) => [a]),
    ["address"],
  );
  return { root: tree.root as Hex, proof: (account: Address) => tree.getProof([account]) as Hex[] };
}
