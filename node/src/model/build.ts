/**
 * Builds the project's own models with no download: seeded GPT-2-shaped decoders in the Hugging
 * Face ONNX layout plus a manifest. The same preset and variant always give byte-identical files.
 */
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { once } from "node:events";
import { CHAT_TEMPLATE_JINJA, DEFAULT_CHAT_FORMAT } from "../engine/chat.ts";
import { buildGpt2, countParameters, type Gpt2Shape, type WeightPerturbation } from "./gpt2Graph.ts";
import { MANIFEST_FILE, MANIFEST_SCHEMA, type ManifestFile, type ModelManifest } from "./manifest.ts";
import { GPT2_EOS_TOKEN, buildGpt2TokenizerJson } from "./tokenizerData.ts";

export const MODEL_SIZES = {
  /** ~3.4M parameters (most of them the 50257-token embedding): fast enough for every test. */
  tiny: { vocabSize: 50257, contextLength: 512, layers: 2, width: 64, heads: 4 },
  /** ~96M parameters: GPT-2 small's width with 8 layers, for benchmarks. */
  "100m": { vocabSize: 50257, contextLength: 1024, layers: 8, width: 768, heads: 12 },
} as const satisfies Record<string, Gpt2Shape>;
export type ModelSize = keyof typeof MODEL_SIZES;

/**
 * base: the approved model. perturbed: the same weights after 4-bit block quantization (what a
 * node cutting corners might serve). substitute: another seed, i.e. a different model.
 */
export const MODEL_VARIANTS = ["base", "perturbed", "substitute"] as const;
export type ModelVariant = (typeof MODEL_VARIANTS)[number];

export const DECODER_FILE = "model.onnx";
export const DECODER_DATA_FILE = "model.onnx_data";
export const EOS_TOKEN_ID = 50256;

export function modelIdFor(size: ModelSize, variant: ModelVariant): string {
  const family = `pod-gpt2-${size}`;
  return variant === "base" ? family : `${family}-${variant}`;
}

function seedFor(size: ModelSize, variant: ModelVariant): string {
  return `pod-gpt2-${size}/seed-${variant === "substitute" ? 2 : 1}`;
}

function perturbationFor(variant: ModelVariant): WeightPerturbation {
  return variant === "perturbed" ? { kind: "fake-quant", bits: 4, blockSize: 32 } : { kind: "none" };
}

let tokenizerJsonText: string | undefined;
function tokenizerText(): string {
  tokenizerJsonText ??= JSON.stringify(buildGpt2TokenizerJson());
  return tokenizerJsonText;
}

function sha256(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}

export type BuildResult = { folder: string; manifest: ModelManifest };

/** Writes `<outDir>/<modelId>/` atomically (temp folder, then rename). */
export async function buildModel(outDir: string, size: ModelSize, variant: ModelVariant): Promise<BuildResult> {
  const shape: Gpt2Shape = MODEL_SIZES[size];
  const modelId = modelIdFor(size, variant);
  const seed = seedFor(size, variant);
  const folder = path.join(outDir, modelId);
  const staging = `${folder}.building-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });

  const files: ManifestFile[] = [];
  const put = async (name: string, data: Uint8Array | string): Promise<void> => {
    await writeFile(path.join(staging, name), data);
    files.push({ path: name, sha256: sha256(data), bytes: typeof data === "string" ? Buffer.byteLength(data) : data.byteLength });
  };

  const graph = buildGpt2({
    shape,
    seed,
    perturbation: perturbationFor(variant),
    externalDataFile: DECODER_DATA_FILE,
    metadata: { model_id: modelId, seed, variant },
  });
  await put(DECODER_FILE, graph.modelProto);

  // The weights file can be hundreds of MB: stream it and hash as it goes.
  const dataHash = createHash("sha256");
  let dataBytes = 0;
  const out = createWriteStream(path.join(staging, DECODER_DATA_FILE));
  for (const chunk of graph.externalData) {
    dataHash.update(chunk);
    dataBytes += chunk.byteLength;
    if (!out.write(chunk)) await once(out, "drain");
  }
  out.end();
  await once(out, "close");
  files.push({ path: DECODER_DATA_FILE, sha256: dataHash.digest("hex"), bytes: dataBytes });

  await put("config.json", json({
    _name_or_path: modelId,
    architectures: ["GPT2LMHeadModel"],
    model_type: "gpt2",
    vocab_size: shape.vocabSize,
    n_positions: shape.contextLength,
    n_ctx: shape.contextLength,
    n_embd: shape.width,
    n_layer: shape.layers,
    n_head: shape.heads,
    n_inner: null,
    activation_function: "gelu_new",
    resid_pdrop: 0,
    embd_pdrop: 0,
    attn_pdrop: 0,
    layer_norm_epsilon: 1e-5,
    initializer_range: 0.02,
    bos_token_id: EOS_TOKEN_ID,
    eos_token_id: EOS_TOKEN_ID,
    tie_word_embeddings: true,
    use_cache: true,
    torch_dtype: "float32",
  }));
  await put("generation_config.json", json({ bos_token_id: EOS_TOKEN_ID, eos_token_id: EOS_TOKEN_ID, do_sample: false, max_new_tokens: 64 }));
  await put("tokenizer.json", tokenizerText());
  await put("tokenizer_config.json", json({
    tokenizer_class: "GPT2Tokenizer",
    model_max_length: shape.contextLength,
    add_prefix_space: false,
    bos_token: GPT2_EOS_TOKEN,
    eos_token: GPT2_EOS_TOKEN,
    unk_token: GPT2_EOS_TOKEN,
    chat_template: CHAT_TEMPLATE_JINJA,
  }));

  const manifest: ModelManifest = {
    schema: MANIFEST_SCHEMA,
    modelId,
    architecture: "gpt2",
    family: modelIdFor(size, "base"),
    variant,
    parameters: countParameters(shape),
    contextLength: shape.contextLength,
    vocabSize: shape.vocabSize,
    eosTokenId: EOS_TOKEN_ID,
    decoder: DECODER_FILE,
    tokenizer: "tokenizer.json",
    chatFormat: DEFAULT_CHAT_FORMAT,
    seed,
    files,
  };
  await writeFile(path.join(staging, MANIFEST_FILE), json(manifest));
  await rm(folder, { recursive: true, force: true });
  await rename(staging, folder);
  return { folder, manifest };
}

/** Builds the model unless a folder with a manifest already exists; returns the folder. */
export async function ensureModel(outDir: string, size: ModelSize, variant: ModelVariant = "base"): Promise<string> {
  const folder = path.join(outDir, modelIdFor(size, variant));
  try {
    await readFile(path.join(folder, MANIFEST_FILE));
    return folder;
  } catch {
    return (await buildModel(outDir, size, variant)).folder;
  }
}

function json(value: unknown): string {
  return JSON.stringify(value, null, 2) + "\n";
}
