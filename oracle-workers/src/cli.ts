/**
 * `pod-oracle`: the oracle workers' command line (`npm run --silent oracle -- <command> ...`).
 * Commands write results to stdout only; every failure is one line on stderr and a non-zero exit
 * (1 for bad input, 2 for a command-line mistake).
 */
import { InputError } from "../../sdk/src/jsonInput.ts";
import type { Command } from "./commands/command.ts";
import { UsageError } from "./commands/command.ts";
import { runCommand } from "./commands/run.ts";
import { simulateCommand } from "./commands/simulate.ts";
import { validateCommand } from "./commands/validate.ts";

const COMMANDS: readonly Command[] = [runCommand, simulateCommand, validateCommand];

const HELP = `Usage: pod-oracle <command> [options]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`).join("\n")}

Run "pod-oracle <command> --help" for a command's options.
`;

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").trim();
}

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined) {
    process.stderr.write(HELP);
    return 2;
  }
  if (name === "help" || name === "--help" || name === "-h") {
    process.stdout.write(HELP);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (command === undefined) {
    process.stderr.write(`pod-oracle: unknown command "${oneLine(name)}" (see pod-oracle --help)\n`);
    return 2;
  }
  try {
    return await command.run(args);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`pod-oracle ${name}: ${oneLine(error.message)} (see pod-oracle ${name} --help)\n`);
      return 2;
    }
    if (error instanceof InputError) {
      process.stderr.write(`pod-oracle ${name}: ${oneLine(error.message)}\n`);
      return 1;
    }
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`pod-oracle ${name}: internal error: ${oneLine(message)}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
