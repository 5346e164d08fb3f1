/** A `pod-oracle` subcommand. Later issues add `epoch`, `validate`, … beside `simulate`. */
export type Command = {
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** Full `--help` text. */
  readonly help: string;
  /** Runs with the arguments after the subcommand name; resolves to the exit code. */
  readonly run: (args: readonly string[]) => Promise<number>;
};

/** A command-line mistake (unknown option, missing argument): exit code 2 and a pointer to --help. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}
