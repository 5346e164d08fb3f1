/**
 * `pod-oracle simulate --in scenario.json [--params file.json] [--summary] [--out result.json]`:
 * runs the reward engine offline (rewards.md, "The simulation command").
 */
import { readFile, writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { InputError } from "../../../sdk/src/jsonInput.ts";
import { parseScenario } from "../simulate/scenario.ts";
import { resultObject, runScenario } from "../simulate/run.ts";
import { renderSummary } from "../simulate/summary.ts";
import type { Command } from "./command.ts";
import { UsageError } from "./command.ts";

const HELP = `Usage: pod-oracle simulate --in scenario.json [options]

Runs the reward engine over a scenario, epoch by epoch, and prints the result JSON on stdout
(per epoch: every account seen so far with reward, cumulativeReward, multipliers, eligibility,
validator status, E, D and w, and the Merkle root of the cumulative rewards).

Options:
  --in FILE       the scenario: { "params": {...}, "epochs": [ { "accounts": [ {
                  "account": "0x..", "base": "wei", "bond": "wei", "registered": true,
                  "suspended": false } ] } ] }  (required)
  --params FILE   a JSON object of parameters applied over the scenario's "params"
                  (same names; JSON numbers for ppm/weeks/counts, decimal strings for wei)
  --summary       print human-readable tables instead of the JSON (per epoch: multipliers,
                  validators, competition on/off; then each account's multiplier per epoch)
  --out FILE      also write the result JSON to FILE (handy with --summary)
  -h, --help      show this help

Bad input exits 1 with one line naming the field, e.g.
  pod-oracle simulate: params.lambdaDownPpm: must be below lambdaUpPpm (500000), got 600000

Example:
  npm run --silent oracle -- simulate --in oracle-workers/examples/scenario.json --summary
`;

async function readJsonFile(path: string, option: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new InputError(option, `cannot read ${path} (${typeof code === "string" ? code : "read error"})`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new InputError(option, `${path} is not valid JSON: ${(error as Error).message}`);
  }
}

async function run(args: readonly string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        in: { type: "string" },
        params: { type: "string" },
        summary: { type: "boolean", default: false },
        out: { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (values.in === undefined) throw new UsageError("--in scenario.json is required");

  const scenarioJson = await readJsonFile(values.in, "--in");
  const overrides = values.params === undefined ? undefined : await readJsonFile(values.params, "--params");
  const scenario = parseScenario(scenarioJson, overrides);
  const epochs = runScenario(scenario);
  const json = `${JSON.stringify(resultObject(epochs), null, 2)}\n`;
  if (values.out !== undefined) await writeFile(values.out, json);
  process.stdout.write(values.summary ? renderSummary(epochs, scenario.params) : json);
  return 0;
}

export const simulateCommand: Command = {
  name: "simulate",
  summary: "run the reward engine offline over a scenario file (rewards.md)",
  help: HELP,
  run,
};
