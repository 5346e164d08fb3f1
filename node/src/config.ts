/**
 * Command-line options of `pod-node`, parsed once into typed configs. Bad values stop the
 * command with a message and the command's help.
 */
import { parseArgs } from "node:util";
import { PROVIDER_CHOICES, type ProviderChoice } from "./runtime/providers.ts";
import { defaultKeyPath } from "./identity/key.ts";

export class UsageError extends Error {}

export type CommonConfig = {
  keyFile: string;
  models: string[];
  provider: ProviderChoice;
  threads: number | undefined;
  maxBatch: number;
  maxPrefillTokens: number;
  chainId: number;
};

export const COMMON_HELP = `  --model <folder>        model folder (HF ONNX layout + pod-manifest.json); repeatable
                          (default: models/pod-gpt2-tiny, built by \`npm run model:build\`)
  --key <file>            node key file (default: $POD_NODE_HOME/node-key.json or ~/.pod-node/node-key.json)
  --provider <auto|cuda|cpu>  execution provider; auto = CUDA when installed, else CPU (default: auto)
  --threads <n>           ONNX Runtime intra-op threads (default: all cores)
  --max-batch <n>         requests decoded together at most (default: 16)
  --max-prefill-tokens <n>  padded prompt tokens per prefill pass (default: 4096)
  --chain-id <n>          chain id in receipt signatures (default: 31337)
  -h, --help              show this help`;

const commonOptions = {
  model: { type: "string", multiple: true },
  key: { type: "string" },
  provider: { type: "string", default: "auto" },
  threads: { type: "string" },
  "max-batch": { type: "string", default: "16" },
  "max-prefill-tokens": { type: "string", default: "4096" },
  "chain-id": { type: "string", default: "31337" },
  help: { type: "boolean", short: "h", default: false },
} as const;

function positiveInt(name: string, text: string | undefined): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--${name} must be a positive integer (got ${JSON.stringify(text)})`);
  return n;
}

type ExtraOptions = Record<string, { type: "string" | "boolean"; default?: string | boolean; multiple?: boolean; short?: string }>;

/** Parses common options plus `extra`; returns help=true when --help was given. */
export function parseCommand<E extends ExtraOptions>(args: string[], extra: E) {
  const { values } = parseArgs({ args, options: { ...commonOptions, ...extra }, strict: true, allowPositionals: false });
  const v = values as Record<string, string | boolean | string[] | undefined>;
  if (v.help === true) return { help: true as const, common: undefined, values: v };
  const provider = v.provider as string;
  if (!(PROVIDER_CHOICES as readonly string[]).includes(provider)) throw new UsageError(`--provider must be one of ${PROVIDER_CHOICES.join(", ")}`);
  const common: CommonConfig = {
    keyFile: (v.key as string | undefined) ?? defaultKeyPath(),
    models: (v.model as string[] | undefined) ?? ["models/pod-gpt2-tiny"],
    provider: provider as ProviderChoice,
    threads: v.threads === undefined ? undefined : positiveInt("threads", v.threads as string),
    maxBatch: positiveInt("max-batch", v["max-batch"] as string),
    maxPrefillTokens: positiveInt("max-prefill-tokens", v["max-prefill-tokens"] as string),
    chainId: positiveInt("chain-id", v["chain-id"] as string),
  };
  return { help: false as const, common, values: v };
}

export { positiveInt };
