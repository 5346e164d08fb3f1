import { test } from "node:test";
import assert from "node:assert/strict";
import { cp, readFile, writeFile, mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { getEncoding } from "js-tiktoken";
import { buildModel } from "../src/model/build.ts";
import { loadModel } from "../src/model/load.ts";
import { parseTokenizerJson } from "../src/model/tokenizer.ts";
import { ChecksumMismatchError, ModelInvalidError } from "../src/errors.ts";
import { tinyModelFolder, loadTiny } from "./fixtures.ts";

test("model builds are byte-identical for the same preset and seed", async () => {
  const a = await mkdtemp(path.join(os.tmpdir(), "pod-build-a-"));
  const b = await mkdtemp(path.join(os.tmpdir(), "pod-build-b-"));
  const [ra, rb] = [await buildModel(a, "tiny", "base"), await buildModel(b, "tiny", "base")];
  assert.deepEqual(ra.manifest.files, rb.manifest.files);
  const manifestA = await readFile(path.join(ra.folder, "pod-manifest.json"));
  const manifestB = await readFile(path.join(rb.folder, "pod-manifest.json"));
  assert.ok(manifestA.equals(manifestB));
  assert.deepEqual(ra.manifest.files.map((f) => f.path).sort(), ["config.json", "generation_config.json", "model.onnx", "model.onnx_data", "tokenizer.json", "tokenizer_config.json"]);
});

test("variants: perturbed shares the tokenizer but not the weights; substitute has another seed", async () => {
  const base = JSON.parse(await readFile(path.join(await tinyModelFolder("base"), "pod-manifest.json"), "utf8"));
  const perturbed = JSON.parse(await readFile(path.join(await tinyModelFolder("perturbed"), "pod-manifest.json"), "utf8"));
  const substitute = JSON.parse(await readFile(path.join(await tinyModelFolder("substitute"), "pod-manifest.json"), "utf8"));
  const sha = (m: { files: { path: string; sha256: string }[] }, file: string) => m.files.find((f) => f.path === file)?.sha256;
  assert.equal(sha(base, "tokenizer.json"), sha(perturbed, "tokenizer.json"));
  assert.notEqual(sha(base, "model.onnx_data"), sha(perturbed, "model.onnx_data"));
  assert.notEqual(sha(base, "model.onnx_data"), sha(substitute, "model.onnx_data"));
  assert.equal(perturbed.seed, base.seed);
  assert.notEqual(substitute.seed, base.seed);
  assert.equal(perturbed.family, "pod-gpt2-tiny");
});

test("tokenizer.json encodes exactly as GPT-2 (js-tiktoken) and decodes back", async () => {
  const tokenizer = parseTokenizerJson(JSON.parse(await readFile(path.join(await tinyModelFolder(), "tokenizer.json"), "utf8")));
  const reference = getEncoding("gpt2");
  const samples = ["Hello, world!", "  leading spaces and\ttabs\n\nnewlines", "It's the user's 3rd try: 1234567 tokens.", "Unicode: héllo wörld — 日本語 🙂 ", "<|endoftext|> is text here"];
  for (const text of samples) {
    const ids = tokenizer.encode(text);
    assert.deepEqual(ids, reference.encode(text, [], []), text);
    assert.equal(tokenizer.decode(ids), text);
  }
  assert.equal(tokenizer.tokenId("<|endoftext|>"), 50256);
});

test("a tampered model file is refused, naming the file", async () => {
  const copy = await mkdtemp(path.join(os.tmpdir(), "pod-tamper-"));
  await cp(await tinyModelFolder(), copy, { recursive: true });
  const data = path.join(copy, "model.onnx_data");
  const bytes = await readFile(data);
  bytes[bytes.length - 5] = bytes[bytes.length - 5]! ^ 0xff;
  await writeFile(data, bytes);
  await assert.rejects(loadModel(copy, { provider: "cpu" }), (error: unknown) => {
    assert.ok(error instanceof ChecksumMismatchError);
    assert.equal(error.file, "model.onnx_data");
    assert.match(error.message, /model\.onnx_data/);
    return true;
  });
});

test("a folder without a manifest, or with a file missing, is refused", async () => {
  const empty = await mkdtemp(path.join(os.tmpdir(), "pod-empty-"));
  await assert.rejects(loadModel(empty, { provider: "cpu" }), ModelInvalidError);
  const copy = await mkdtemp(path.join(os.tmpdir(), "pod-missing-"));
  await cp(await tinyModelFolder(), copy, { recursive: true });
  await writeFile(path.join(copy, "config.json.bak"), "");
  const { rm } = await import("node:fs/promises");
  await rm(path.join(copy, "config.json"));
  await assert.rejects(loadModel(copy, { provider: "cpu" }), /config\.json/);
});

test("loading reports progress for every file and picks CPU when CUDA is not installed", async () => {
  const seen = new Set<string>();
  const model = await loadModel(await tinyModelFolder(), { provider: "auto", onProgress: (file, done, total) => done === total && seen.add(file) });
  assert.equal(model.provider, "cpu");
  assert.equal(seen.size, model.manifest.files.length);
  const tiny = await loadTiny();
  assert.equal(tiny.manifest.modelId, "pod-gpt2-tiny");
});
