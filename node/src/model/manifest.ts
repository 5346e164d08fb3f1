/**
 * The model manifest (`pod-manifest.json`): what a model folder claims to be and the sha256 of
 * every file in it. A node verifies every checksum before it loads anything.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { ChecksumMismatchError, ModelInvalidError } from "../errors.ts";

export const MANIFEST_FILE = "pod-manifest.json";
export const MANIFEST_SCHEMA = "pod-model-manifest/1";

export type ManifestFile = { path: string; sha256: string; bytes: number };

export type ModelManifest = {
  schema: typeof MANIFEST_SCHEMA;
  modelId: string;
  architecture: string;
  /** The base model a variant derives from (itself for a base model). */
  family: string;
  variant: string;
  parameters: number;
  contextLength: number;
  vocabSize: number;
  eosTokenId: number;
  /** Decoder graph, relative to the folder. */
  decoder: string;
  tokenizer: string;
  chatFormat: string;
  seed: string;
  files: ManifestFile[];
};

const SHA256_HEX = /^[0-9a-f]{64}$/;

function field<T>(obj: Record<string, unknown>, key: string, check: (v: unknown) => v is T, what: string): T {
  const value = obj[key];
  if (!check(value)) throw new ModelInvalidError(`${MANIFEST_FILE}: "${key}" must be ${what}`);
  return value;
}
const isString = (v: unknown): v is string => typeof v === "string" && v.length > 0;
const isCount = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v) && v >= 0;

/** Refuses paths that would escape the model folder. */
function safeRelativePath(p: string): string {
  const normal = path.posix.normalize(p);
  if (path.posix.isAbsolute(normal) || normal.startsWith("..")) throw new ModelInvalidError(`${MANIFEST_FILE}: file path ${JSON.stringify(p)} leaves the model folder`);
  return normal;
}

export function parseManifest(json: unknown): ModelManifest {
  if (typeof json !== "object" || json === null) throw new ModelInvalidError(`${MANIFEST_FILE} is not a JSON object`);
  const o = json as Record<string, unknown>;
  if (o.schema !== MANIFEST_SCHEMA) throw new ModelInvalidError(`${MANIFEST_FILE}: schema must be "${MANIFEST_SCHEMA}"`);
  const rawFiles = o.files;
  if (!Array.isArray(rawFiles) || rawFiles.length === 0) throw new ModelInvalidError(`${MANIFEST_FILE}: "files" must list every file`);
  const files = rawFiles.map((entry: unknown): ManifestFile => {
    const f = (typeof entry === "object" && entry !== null ? entry : {}) as Record<string, unknown>;
    const sha256 = field(f, "sha256", isString, "a sha256 hex string");
    if (!SHA256_HEX.test(sha256)) throw new ModelInvalidError(`${MANIFEST_FILE}: bad sha256 ${sha256}`);
    return { path: safeRelativePath(field(f, "path", isString, "a path")), sha256, bytes: field(f, "bytes", isCount, "a byte count") };
  });
  const manifest: ModelManifest = {
    schema: MANIFEST_SCHEMA,
    modelId: field(o, "modelId", isString, "a string"),
    architecture: field(o, "architecture", isString, "a string"),
    family: field(o, "family", isString, "a string"),
    variant: field(o, "variant", isString, "a string"),
    parameters: field(o, "parameters", isCount, "a count"),
    contextLength: field(o, "contextLength", isCount, "a count"),
    vocabSize: field(o, "vocabSize", isCount, "a count"),
    eosTokenId: field(o, "eosTokenId", isCount, "a token id"),
    decoder: safeRelativePath(field(o, "decoder", isString, "a path")),
    tokenizer: safeRelativePath(field(o, "tokenizer", isString, "a path")),
    chatFormat: field(o, "chatFormat", isString, "a string"),
    seed: field(o, "seed", isString, "a string"),
    files,
  };
  for (const needed of [manifest.decoder, manifest.tokenizer]) {
    if (!files.some((f) => f.path === needed)) throw new ModelInvalidError(`${MANIFEST_FILE}: ${needed} is used but has no checksum`);
  }
  return manifest;
}

export async function readManifest(folder: string): Promise<ModelManifest> {
  let text: string;
  try {
    text = await readFile(path.join(folder, MANIFEST_FILE), "utf8");
  } catch (cause) {
    throw new ModelInvalidError(`no ${MANIFEST_FILE} in ${folder} (build one with \`npm run model:build\`)`, { cause });
  }
  try {
    return parseManifest(JSON.parse(text));
  } catch (cause) {
    if (cause instanceof ModelInvalidError) throw cause;
    throw new ModelInvalidError(`${MANIFEST_FILE} in ${folder} is not valid JSON`, { cause });
  }
}

/** Called as bytes are hashed; `done === total` at the end of each file. */
export type VerifyProgress = (file: string, done: number, total: number) => void;

/** Hashes every listed file and throws ChecksumMismatchError naming the first bad one. */
export async function verifyManifestFiles(folder: string, manifest: ModelManifest, onProgress?: VerifyProgress): Promise<void> {
  for (const file of manifest.files) {
    const full = path.join(folder, file.path);
    let size: number;
    try {
      size = (await stat(full)).size;
    } catch (cause) {
      throw new ModelInvalidError(`${file.path} is listed in the manifest but missing from ${folder}`, { cause });
    }
    const hash = createHash("sha256");
    let done = 0;
    for await (const chunk of createReadStream(full, { highWaterMark: 4 << 20 })) {
      const buf = chunk as Buffer;
      hash.update(buf);
      done += buf.length;
      onProgress?.(file.path, done, size);
    }
    if (size === 0) onProgress?.(file.path, 0, 0);
    const actual = hash.digest("hex");
    if (actual !== file.sha256) throw new ChecksumMismatchError(file.path, file.sha256, actual);
  }
}

/** A progress bar on stderr when it is a terminal, one line per file otherwise. */
export function stderrProgress(): VerifyProgress {
  const tty = process.stderr.isTTY === true;
  let lastDraw = 0;
  return (file, done, total) => {
    const finished = done >= total;
    if (!tty) {
      if (finished) process.stderr.write(`verified ${file} (${(total / 1e6).toFixed(1)} MB)\n`);
      return;
    }
    const now = Date.now();
    if (!finished && now - lastDraw < 100) return;
    lastDraw = now;
    const width = 30;
    const ratio = total === 0 ? 1 : done / total;
    const filled = Math.round(ratio * width);
    process.stderr.write(`\rverifying ${file.padEnd(24)} [${"#".repeat(filled)}${" ".repeat(width - filled)}] ${(ratio * 100).toFixed(0).padStart(3)}%`);
    if (finished) process.stderr.write("\n");
  };
}
