// The simulation in-process: scenario parsing (every failure names its field), the result JSON
// of rewards.md, and the per-epoch roots.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { InputError } from "../../sdk/src/jsonInput.ts";
import { LEAF_ENCODING } from "../../sdk/src/merkle/leaf.ts";
import { parseScenario } from "../src/simulate/scenario.ts";
import { resultObject, runScenario } from "../src/simulate/run.ts";
import { renderSummary } from "../src/simulate/summary.ts";

const POD = 10n ** 18n;
const A = "0x52908400098527886E0F7030069857D2E4169EE7"; // EIP-55 checksummed
const B = "0x8617E340B3D01FA5F11F306F4090FD50E238070D";

const entry = (account: string, base: string, bond: string, extra: Record<string, unknown> = {}) => ({
  account, base, bond, registered: true, suspended: false, ...extra,
});

function simulate(json: unknown): unknown {
  return resultObject(runScenario(parseScenario(json, undefined)));
}

function rejects(json: unknown, field: string, message?: RegExp, overrides?: unknown): void {
  assert.throws(
    () => parseScenario(json, overrides),
    (error: unknown) => {
      assert.ok(error instanceof InputError, String(error));
      assert.equal(error.field, field);
      if (message) assert.match(error.message, message);
      return true;
    },
  );
}

describe("result JSON", () => {
  // Default parameters (nWeek 7). e1: A earns 10 POD with 1000 POD bonded; B earns nothing.
  // e2: A earns 10 POD again; B is missing (base 0, last bond 0).
  const result = simulate({
    epochs: [
      { accounts: [entry(A.toLowerCase(), "10000000000000000000", "1000000000000000000000"), entry(B, "0", "0")] },
      { accounts: [entry(A, "10000000000000000000", "1000000000000000000000")] },
    ],
  });

  test("matches rewards.md field for field (wei as strings, ppm and w as numbers)", () => {
    // e1, A: reward = base = 10 POD; Eobs = 10 * 7 = 70, E = 70 / 2 = 35 POD = D; w = 1000 / 35
    // e1, B: E = 0, D = earningsFloor = 1 POD, w = 0
    // e2, A: Eobs = 20 * 7 / 2 = 70, E = (35 + 70) / 2 = 52.5 POD; cumulative 20 POD
    const epoch1Root = StandardMerkleTree.of([[A, (10n * POD).toString()]], [...LEAF_ENCODING]).root;
    const epoch2Root = StandardMerkleTree.of([[A, (20n * POD).toString()]], [...LEAF_ENCODING]).root;
    const account = (account: string, reward: string, cumulativeReward: string, E: string, D: string, w: number) => ({
      account, reward, cumulativeReward, multiplierPpm: 1_000_000, nextMultiplierPpm: 1_000_000,
      boostEligible: false, validator: false, E, D, w,
    });
    assert.deepEqual(result, {
      epochs: [
        {
          accounts: [
            account(A, "10000000000000000000", "10000000000000000000", "35000000000000000000", "35000000000000000000", 1000 / 35),
            account(B, "0", "0", "0", "1000000000000000000", 0),
          ],
          root: epoch1Root, // B's cumulative reward is 0: not in the tree
        },
        {
          accounts: [
            account(A, "10000000000000000000", "20000000000000000000", "52500000000000000000", "52500000000000000000", 1000 / 52.5),
            account(B, "0", "0", "0", "1000000000000000000", 0),
          ],
          root: epoch2Root,
        },
      ],
    });
  });

  test("keys in the order of rewards.md; addresses in checksum form whatever the input case", () => {
    const first = (result as { epochs: { accounts: Record<string, unknown>[] }[] }).epochs[0]!.accounts[0]!;
    assert.deepEqual(Object.keys(first), [
      "account", "reward", "cumulativeReward", "multiplierPpm", "nextMultiplierPpm",
      "boostEligible", "validator", "E", "D", "w",
    ]);
    assert.equal(first["account"], A);
  });

  test("no positive cumulative reward: the zero root", () => {
    const empty = simulate({ epochs: [{ accounts: [entry(A, "0", "5")] }, { accounts: [] }] }) as {
      epochs: { root: string }[];
    };
    assert.deepEqual(empty.epochs.map((e) => e.root), [`0x${"0".repeat(64)}`, `0x${"0".repeat(64)}`]);
  });

  test("the root covers every account with a positive cumulative reward", () => {
    const epochs = runScenario(
      parseScenario({ epochs: [{ accounts: [entry(A, "7", "0"), entry(B, "0", "0")] }, { accounts: [entry(B, "3", "0")] }] }, undefined),
    );
    const expected = StandardMerkleTree.of([[A, "7"], [B, "3"]], [...LEAF_ENCODING]).root;
    assert.equal(epochs[1]!.root, expected);
  });

  test("the summary has one row per epoch and says whether competition ran", () => {
    const scenario = parseScenario({ epochs: [{ accounts: [entry(A, "10000000000000000000", "0")] }] }, undefined);
    const text = renderSummary(runScenario(scenario), scenario.params);
    assert.match(text, /^1\s+1\s+0\s+0\s+off \|O\|=0 < 10\s+1\.0000x \/ 1\.0000x \/ 1\.0000x\s+10\s+0x/m);
  });
});

describe("parameters from the scenario and from --params", () => {
  test("--params applies over the scenario's params", () => {
    const scenario = parseScenario({ params: { kMax: 5, kMin: 3 }, epochs: [] }, { kMin: 4 });
    assert.equal(scenario.params.kMax, 5);
    assert.equal(scenario.params.kMin, 4);
  });
  test("a bad --params value names --params", () => {
    rejects({ epochs: [] }, "--params.lambdaDownPpm", /must be below lambdaUpPpm/, { lambdaDownPpm: 900_000 });
    rejects({ epochs: [] }, "--params.nope", /unknown parameter/, { nope: 1 });
  });
});

describe("bad scenarios name the field", () => {
  const epochWith = (account: unknown) => ({ epochs: [{ accounts: [account] }] });
  test("not an object", () => rejects([], "scenario"));
  test("unknown top-level field", () => rejects({ epochs: [], extra: 1 }, "scenario.extra", /unknown field/));
  test("missing epochs", () => rejects({}, "scenario.epochs", /missing/));
  test("epochs not an array", () => rejects({ epochs: {} }, "epochs", /array/));
  test("an epoch without accounts", () => rejects({ epochs: [{}] }, "epochs[0].accounts", /missing/));
  test("unknown parameter", () => rejects({ params: { rho: 3 }, epochs: [] }, "params.rho", /unknown parameter/));
  test("broken invariant", () => rejects({ params: { lambdaDownPpm: 500_000 }, epochs: [] }, "params.lambdaDownPpm"));
  test("negative amounts", () => {
    rejects(epochWith(entry(A, "-5", "0")), "epochs[0].accounts[0].base", /must not be negative/);
    rejects(epochWith(entry(A, "5", "-1")), "epochs[0].accounts[0].bond", /must not be negative/);
  });
  test("amounts that are not decimal wei strings", () => {
    rejects(epochWith(entry(A, "1.5", "0")), "epochs[0].accounts[0].base");
    rejects(epochWith({ ...entry(A, "1", "0"), base: 1 }), "epochs[0].accounts[0].base", /decimal string/);
  });
  test("malformed address", () => {
    rejects(epochWith(entry("0x1234", "1", "0")), "epochs[0].accounts[0].account", /malformed address/);
    rejects(epochWith(entry(`0x${"z".repeat(40)}`, "1", "0")), "epochs[0].accounts[0].account", /malformed address/);
  });
  test("mixed-case address with a bad checksum", () => {
    rejects(epochWith(entry("0x52908400098527886E0F7030069857D2E4169Ee7", "1", "0")), "epochs[0].accounts[0].account", /checksum/);
  });
  test("a flag that is not a boolean", () => {
    rejects(epochWith(entry(A, "1", "0", { registered: "yes" })), "epochs[0].accounts[0].registered", /true or false/);
  });
  test("a missing account field", () => {
    const { bond: _bond, ...withoutBond } = entry(A, "1", "0");
    rejects(epochWith(withoutBond), "epochs[0].accounts[0].bond", /missing/);
  });
  test("an unknown account field", () => rejects(epochWith(entry(A, "1", "0", { stake: "1" })), "epochs[0].accounts[0].stake"));
  test("the same account twice in an epoch (in any letter case)", () => {
    rejects(
      { epochs: [{ accounts: [entry(A, "1", "0"), entry(A.toLowerCase(), "2", "0")] }] },
      "epochs[0].accounts[1].account",
      /appears twice/,
    );
  });
});

describe("--params layered over the scenario's params", () => {
  const scenario = { params: { lambdaDownPpm: 600_000 }, epochs: [{ accounts: [] }] };

  test("checks the relations on the final set, not on each layer", () => {
    // lambdaDown 0.6 breaks the default lambdaUp 0.5 alone, but not the overriding 0.8.
    const parsed = parseScenario(scenario, { lambdaUpPpm: 800_000 });
    assert.equal(parsed.params.lambdaDownPpm, 600_000);
    assert.equal(parsed.params.lambdaUpPpm, 800_000);
  });

  test("still refuses a final set that breaks them, naming the layer that was applied last", () => {
    assert.throws(() => parseScenario(scenario, undefined), (e: unknown) => e instanceof InputError && /params\.lambdaDownPpm/.test(e.message));
    assert.throws(() => parseScenario(scenario, { lambdaUpPpm: 550_000 }), (e: unknown) => e instanceof InputError && /--params\.lambdaDownPpm/.test(e.message));
  });
});
