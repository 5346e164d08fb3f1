// `pod-oracle simulate` as a user runs it: spawned, stdout holds only the result, every bad
// input exits non-zero with one line on stderr naming the field.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const workspace = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const cli = join(workspace, "oracle-workers/src/cli.ts");
const example = join(workspace, "oracle-workers/examples/scenario.json");

type Run = { code: number; stdout: string; stderr: string };

function runCli(args: readonly string[], command = process.execPath, prefix: readonly string[] = [cli]): Promise<Run> {
  return new Promise((done) => {
    execFile(command, [...prefix, ...args], { cwd: workspace, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
      done({ code, stdout, stderr });
    });
  });
}

let dir = "";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "pod-oracle-cli-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, content: unknown): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
}

const A = "0x52908400098527886E0F7030069857D2E4169EE7";
const good = (account: Record<string, unknown> = {}, params: Record<string, unknown> = {}) => ({
  params,
  epochs: [{ accounts: [{ account: A, base: "10", bond: "0", registered: true, suspended: false, ...account }] }],
});

describe("simulate: good input", { concurrency: true }, () => {
  test("prints only the result JSON on stdout", async () => {
    const { code, stdout, stderr } = await runCli(["simulate", "--in", example]);
    assert.equal(code, 0, stderr);
    assert.equal(stderr, "");
    const result = JSON.parse(stdout) as { epochs: { accounts: { account: string; w: unknown }[]; root: string }[] };
    assert.equal(result.epochs.length, 12);
    assert.equal(typeof result.epochs[0]!.accounts[0]!.w, "number");
    assert.match(result.epochs[11]!.root, /^0x[0-9a-f]{64}$/);
  });

  test("through npm run --silent oracle, stdout is the JSON alone", async () => {
    const npm = process.platform === "win32" ? "npm.cmd" : "npm";
    const { code, stdout } = await runCli(["run", "--silent", "oracle", "--", "simulate", "--in", example], npm, []);
    assert.equal(code, 0);
    assert.doesNotThrow(() => JSON.parse(stdout));
  });

  test("--params overrides the scenario's parameters", async () => {
    const params = await file("params.json", { baseBoostMaxPpm: 150_000, compMinAccounts: 100 });
    const plain = JSON.parse((await runCli(["simulate", "--in", example])).stdout) as { epochs: { accounts: { nextMultiplierPpm: number }[] }[] };
    const run = await runCli(["simulate", "--in", example, "--params", params]);
    assert.equal(run.code, 0, run.stderr);
    const changed = JSON.parse(run.stdout) as typeof plain;
    const maxOf = (r: typeof plain) => Math.max(...r.epochs.flatMap((e) => e.accounts.map((a) => a.nextMultiplierPpm)));
    assert.equal(maxOf(plain), 1_300_000);
    assert.equal(maxOf(changed), 1_150_000); // linear part only, at most +0.15
  });

  test("--summary prints tables; --out still writes the JSON", async () => {
    const out = join(dir, "result.json");
    const { code, stdout } = await runCli(["simulate", "--in", example, "--summary", "--out", out]);
    assert.equal(code, 0);
    assert.match(stdout, /competition/);
    assert.match(stdout, /^7\s+6\s+5\s+1\s+on /m); // epoch 7: competition switches on
    const { readFile } = await import("node:fs/promises");
    assert.equal((JSON.parse(await readFile(out, "utf8")) as { epochs: unknown[] }).epochs.length, 12);
  });

  test("--help on the command and on pod-oracle", async () => {
    const own = await runCli(["simulate", "--help"]);
    assert.equal(own.code, 0);
    assert.match(own.stdout, /Usage: pod-oracle simulate --in scenario\.json/);
    const top = await runCli(["--help"]);
    assert.equal(top.code, 0);
    assert.match(top.stdout, /simulate\s+run the reward engine/);
  });
});

/** Asserts a failing run: the exit code, and one stderr line matching `message`. */
function assertOneLineError(run: Run, code: number, message: RegExp): void {
  assert.equal(run.code, code, run.stderr);
  assert.equal(run.stdout, "");
  const lines = run.stderr.split("\n").filter((line) => line !== "");
  assert.equal(lines.length, 1, run.stderr);
  assert.match(lines[0]!, message);
}

describe("simulate: bad input exits 1 with one line naming the field", { concurrency: true }, () => {
  const cases: [string, unknown, RegExp][] = [
    ["unknown parameter", good({}, { lambdaUp: 1 }), /^pod-oracle simulate: params\.lambdaUp: unknown parameter$/],
    ["lambdaDown >= lambdaUp", good({}, { lambdaDownPpm: 500_000 }), /params\.lambdaDownPpm: must be below lambdaUpPpm/],
    ["kMin above kMax", good({}, { kMin: 12 }), /params\.kMin: must not exceed kMax/],
    ["maxMultiplier above 1.3x", good({}, { maxMultiplierPpm: 1_400_000 }), /params\.maxMultiplierPpm: must be in/],
    ["epochHours not dividing 168", good({}, { epochHours: 10 }), /params\.epochHours: must divide 168/],
    ["negative base", good({ base: "-5" }), /epochs\[0\]\.accounts\[0\]\.base: must not be negative/],
    ["negative bond", good({ bond: "-1" }), /epochs\[0\]\.accounts\[0\]\.bond: must not be negative/],
    ["malformed address", good({ account: "0xnope" }), /epochs\[0\]\.accounts\[0\]\.account: malformed address/],
    ["bad checksum", good({ account: A.replace("EE7", "Ee7") }), /epochs\[0\]\.accounts\[0\]\.account: bad EIP-55 checksum/],
    ["missing field", good({ bond: undefined }), /epochs\[0\]\.accounts\[0\]\.bond: missing/],
    ["flag not boolean", good({ suspended: 0 }), /epochs\[0\]\.accounts\[0\]\.suspended: must be true or false/],
    ["unknown top-level field", { epochs: [], note: "x" }, /scenario\.note: unknown field/],
  ];
  for (const [name, scenario, message] of cases) {
    test(name, async () => {
      const path = await file(`${name.replace(/\W+/g, "-")}.json`, scenario);
      assertOneLineError(await runCli(["simulate", "--in", path]), 1, message);
    });
  }

  test("not JSON", async () => {
    const path = await file("broken.json", "{ \"epochs\": [ ");
    assertOneLineError(await runCli(["simulate", "--in", path]), 1, /--in: .*broken\.json is not valid JSON/);
  });
  test("no such file", async () => {
    assertOneLineError(await runCli(["simulate", "--in", join(dir, "missing.json")]), 1, /--in: cannot read .*\(ENOENT\)/);
  });
  test("a bad --params file names --params", async () => {
    const params = await file("bad-params.json", { lambdaDownPpm: 700_000 });
    assertOneLineError(
      await runCli(["simulate", "--in", example, "--params", params]),
      1,
      /--params\.lambdaDownPpm: must be below lambdaUpPpm/,
    );
  });
});

describe("command-line mistakes exit 2", { concurrency: true }, () => {
  test("missing --in", async () => assertOneLineError(await runCli(["simulate"]), 2, /--in scenario\.json is required/));
  test("unknown option", async () => assertOneLineError(await runCli(["simulate", "--in", example, "--fast"]), 2, /--fast/));
  test("unknown command", async () => assertOneLineError(await runCli(["simulat"]), 2, /unknown command "simulat"/));
});
