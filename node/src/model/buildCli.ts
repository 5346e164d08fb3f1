/**
 * `npm run model:build`: writes the project's seeded models (no download) to ./models.
 */
import { parseArgs } from "node:util";
import path from "node:path";
import { MODEL_SIZES, MODEL_VARIANTS, buildModel, type ModelSize, type ModelVariant } from "./build.ts";

const HELP = `Usage: npm run model:build -- [options]

Writes seeded GPT-2-shaped decoders in the Hugging Face ONNX layout (model.onnx + model.onnx_data,
config.json, generation_config.json, tokenizer.json, tokenizer_config.json) and a pod-manifest.json
with the sha256 of every file. No download; the same options always give byte-identical files.

Options:
  --size <tiny|100m|all>                        model size (default: tiny)
  --variant <base|perturbed|substitute|all>     variant (default: all)
                                                perturbed = same weights, 4-bit block fake-quantized
                                                substitute = a different seed (another model)
  --out <dir>                                   output folder (default: models)
  -h, --help                                    show this help
`;

const { values } = parseArgs({
  options: {
    size: { type: "string", default: "tiny" },
    variant: { type: "string", default: "all" },
    out: { type: "string", default: "models" },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (values.help) {
  process.stdout.write(HELP);
  process.exit(0);
}

const sizes: ModelSize[] = values.size === "all" ? (Object.keys(MODEL_SIZES) as ModelSize[]) : [values.size as ModelSize];
const variants: ModelVariant[] = values.variant === "all" ? [...MODEL_VARIANTS] : [values.variant as ModelVariant];
for (const size of sizes) if (!(size in MODEL_SIZES)) fail(`unknown --size ${size}`);
for (const variant of variants) if (!MODEL_VARIANTS.includes(variant)) fail(`unknown --variant ${variant}`);

for (const size of sizes) {
  for (const variant of variants) {
    const started = performance.now();
    const { folder, manifest } = await buildModel(path.resolve(values.out), size, variant);
    const bytes = manifest.files.reduce((n, f) => n + f.bytes, 0);
    process.stdout.write(
      `built ${manifest.modelId} (${(manifest.parameters / 1e6).toFixed(1)}M params, ${(bytes / 1e6).toFixed(1)} MB) in ${((performance.now() - started) / 1000).toFixed(1)} s -> ${path.relative(process.cwd(), folder)}\n`,
    );
  }
}

function fail(message: string): never {
  process.stderr.write(`${message}\n\n${HELP}`);
  process.exit(2);
}
