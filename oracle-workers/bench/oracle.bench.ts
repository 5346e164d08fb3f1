/**
 * `npm run bench:oracle`: measured figures, not a test. Prints
 *   - the reward engine's time per epoch close for 10k, 100k and 1M accounts,
 *   - the Merkle tree's build time and proof time for 10k, 100k and 1M accounts,
 *   - @openzeppelin/merkle-tree on the same 10k and 100k leaves in the same run, and the ratio.
 * Inputs come from a seeded generator, so runs are comparable. Bounded: ~1-3 minutes on 2 cores.
 */
import { cpus, loadavg } from "node:os";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { closeEpoch } from "../src/rewards/engine.ts";
import type { RewardParams } from "../../sdk/src/rewardParams.ts";
import { DEFAULT_REWARD_PARAMS } from "../../sdk/src/rewardParams.ts";
import type { AccountEpochInput, AccountState } from "../src/rewards/state.ts";
import type { CumulativeLeaf } from "../../sdk/src/merkle/tree.ts";
import { CumulativeRewardTree, verifyCumulativeProof } from "../../sdk/src/merkle/tree.ts";
import { LEAF_ENCODING } from "../../sdk/src/merkle/leaf.ts";
import { mulberry32 as seeded } from "../../test/helpers/random.ts";

const SIZES = [10_000, 100_000, 1_000_000];
const OZ_SIZES = new Set([10_000, 100_000]);
const ENGINE_EPOCHS = 3;
const PROOFS = 1_000;
const POD = 10n ** 18n;

// Every step does work from the second epoch on: eligibility after one epoch, a competitive set.
const PARAMS: RewardParams = { ...DEFAULT_REWARD_PARAMS, minHistoryEpochs: 1, minLifetimeBase: 0n };

function accounts(count: number, random: () => number): string[] {
  const word = () => Math.floor(random() * 2 ** 32).toString(16).padStart(8, "0");
  return Array.from({ length: count }, () => `0x${word()}${word()}${word()}${word()}${word()}`);
}

function ms(start: number): number {
  return performance.now() - start;
}

const fmt = (value: number, digits = 1) => value.toFixed(digits).padStart(9);

function benchEngine(count: number): void {
  const random = seeded(count);
  const ids = accounts(count, random);
  // Base 0-20 POD per epoch, bonds 0-4000 POD: w spreads across 0..~60 weeks, so the linear
  // part, validators (none: bonds < 100k POD) and a large competitive set all occur.
  const epochInputs = (): AccountEpochInput[] =>
    ids.map((account) => ({
      account,
      base: BigInt(Math.floor(random() * 20_000)) * 10n ** 15n,
      bond: BigInt(Math.floor(random() * 4_000)) * POD,
      registered: true,
      suspended: random() < 0.01,
    }));
  let states: ReadonlyMap<string, AccountState> = new Map();
  const times: number[] = [];
  let competing = 0;
  for (let epoch = 0; epoch < ENGINE_EPOCHS; epoch++) {
    const inputs = epochInputs();
    const start = performance.now();
    const close = closeEpoch(states, inputs, PARAMS);
    times.push(ms(start));
    states = close.states;
    competing = close.competition.size;
  }
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  console.log(
    `engine  ${String(count).padStart(9)} accounts  ${fmt(mean)} ms/epoch  (${times.map((t) => t.toFixed(0)).join(", ")} ms; ` +
      `${((mean * 1000) / count).toFixed(2)} us/account; |O| = ${competing})`,
  );
}

function benchTree(count: number): void {
  const random = seeded(count + 1);
  const leaves: CumulativeLeaf[] = accounts(count, random).map((account) => ({
    account,
    cumulativeReward: BigInt(Math.floor(random() * 1e12)) * 10n ** 12n,
  }));

  let start = performance.now();
  const tree = CumulativeRewardTree.build(leaves);
  const buildMs = ms(start);

  const picks = Array.from({ length: PROOFS }, () => Math.floor(random() * count));
  start = performance.now();
  tree.proofFor(leaves[picks[0]!]!.account); // first lookup builds the account index
  const indexMs = ms(start);
  start = performance.now();
  const proofs = picks.map((i) => tree.proofFor(leaves[i]!.account)!);
  const proofUs = (ms(start) * 1000) / PROOFS;
  start = performance.now();
  const allValid = picks.every((i, k) => verifyCumulativeProof(tree.root, leaves[i]!.account, leaves[i]!.cumulativeReward, proofs[k]!));
  const verifyUs = (ms(start) * 1000) / PROOFS;
  if (!allValid) throw new Error("a proof failed to verify");

  console.log(
    `tree    ${String(count).padStart(9)} leaves    ${fmt(buildMs)} ms build  ${fmt(proofUs, 2)} us/proof  ` +
      `${fmt(verifyUs, 2)} us/verify  (account index on first proofFor: ${indexMs.toFixed(0)} ms; depth ${proofs[0]!.length})`,
  );

  if (!OZ_SIZES.has(count)) return;
  const values = leaves.map((l) => [l.account, l.cumulativeReward.toString()]);
  start = performance.now();
  const oz = StandardMerkleTree.of(values, [...LEAF_ENCODING]);
  const ozBuildMs = ms(start);
  start = performance.now();
  for (const i of picks.slice(0, 100)) oz.getProof(i);
  const ozProofUs = (ms(start) * 1000) / 100;
  if (oz.root !== tree.root) throw new Error(`roots differ at ${count}: ${oz.root} vs ${tree.root}`);
  console.log(
    `oz      ${String(count).padStart(9)} leaves    ${fmt(ozBuildMs)} ms build  ${fmt(ozProofUs, 2)} us/proof` +
      `                  (same root; build ${(ozBuildMs / buildMs).toFixed(1)}x slower, proof ${(ozProofUs / proofUs).toFixed(1)}x slower)`,
  );
}

console.log(`node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? "cpu"}, load ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
// Warm the JIT and the WebAssembly tier-up so the first size is not charged for compilation.
CumulativeRewardTree.build(accounts(2_000, seeded(0)).map((account) => ({ account, cumulativeReward: 1n })));
const started = performance.now();
for (const size of SIZES) benchEngine(size);
for (const size of SIZES) benchTree(size);
console.log(`done in ${(ms(started) / 1000).toFixed(1)} s, load ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
