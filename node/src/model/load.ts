/**
 * Loads a model folder in the Hugging Face ONNX layout: manifest checksums first (nothing is
 * parsed or run before every file matches), then tokenizer, config and the ONNX session.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { ModelInvalidError } from "../errors.ts";
import { log } from "../log.ts";
import { Decoder } from "../runtime/decoder.ts";
import { createSession, type ActiveProvider, type SessionOptions } from "../runtime/providers.ts";
import { MANIFEST_FILE, readManifest, verifyManifestFiles, type ModelManifest, type VerifyProgress } from "./manifest.ts";
import { parseTokenizerJson, type Tokenizer } from "./tokenizer.ts";

export type LoadedModel = {
  folder: string;
  manifest: ModelManifest;
  /** sha256 of pod-manifest.json: names these exact weights. */
  manifestSha256: string;
  tokenizer: Tokenizer;
  decoder: Decoder;
  provider: ActiveProvider;
};

export type LoadOptions = SessionOptions & { onProgress?: VerifyProgress | undefined };

type HfConfig = { n_layer: number; n_head: number; n_embd: number; vocab_size: number };

function parseHfConfig(raw: unknown): HfConfig {
  const o = (typeof raw === "object" && raw !== null ? raw : {}) as Record<string, unknown>;
  const out: Partial<HfConfig> = {};
  for (const key of ["n_layer", "n_head", "n_embd", "vocab_size"] as const) {
    const v = o[key];
    if (typeof v !== "number" || !Number.isInteger(v) || v <= 0) throw new ModelInvalidError(`config.json: ${key} must be a positive integer`);
    out[key] = v;
  }
  return out as HfConfig;
}

async function readJson(folder: string, file: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path.join(folder, file), "utf8"));
  } catch (cause) {
    throw new ModelInvalidError(`cannot read ${file} in ${folder}`, { cause });
  }
}

export async function loadModel(folder: string, options: LoadOptions): Promise<LoadedModel> {
  const manifest = await readManifest(folder);
  const started = performance.now();
  await verifyManifestFiles(folder, manifest, options.onProgress);
  log("info", "model files verified", { model: manifest.modelId, files: manifest.files.length, ms: Math.round(performance.now() - started) });
  if (manifest.architecture !== "gpt2") throw new ModelInvalidError(`architecture "${manifest.architecture}" is not supported (gpt2 only)`);

  const config = parseHfConfig(await readJson(folder, "config.json"));
  if (!manifest.files.some((f) => f.path === "config.json")) throw new ModelInvalidError(`${MANIFEST_FILE}: config.json has no checksum`);
  const tokenizer = parseTokenizerJson(await readJson(folder, manifest.tokenizer));
  if (config.vocab_size !== manifest.vocabSize) throw new ModelInvalidError(`config.json vocab_size ${config.vocab_size} differs from the manifest's ${manifest.vocabSize}`);
  if (config.n_embd % config.n_head !== 0) throw new ModelInvalidError("config.json: n_embd is not divisible by n_head");

  const { session, provider } = await createSession(path.join(folder, manifest.decoder), options);
  const decoder = new Decoder(session, { layers: config.n_layer, heads: config.n_head, headDim: config.n_embd / config.n_head }, config.vocab_size);
  const manifestSha256 = createHash("sha256").update(await readFile(path.join(folder, MANIFEST_FILE))).digest("hex");
  return { folder, manifest, manifestSha256, tokenizer, decoder, provider };
}
