/** Shared test setup: the tiny model built into a per-process temp folder (about a second). */
import os from "node:os";
import path from "node:path";
import { mkdtemp } from "node:fs/promises";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { ensureModel, type ModelVariant } from "../src/model/build.ts";
import { loadModel, type LoadedModel } from "../src/model/load.ts";
import { setLogLevel } from "../src/log.ts";
import { NodeService, type ServiceConfig } from "../src/service.ts";

setLogLevel("warn");

let dir: Promise<string> | undefined;
export function testModelsDir(): Promise<string> {
  dir ??= mkdtemp(path.join(os.tmpdir(), "pod-node-test-"));
  return dir;
}

export async function tinyModelFolder(variant: ModelVariant = "base"): Promise<string> {
  return ensureModel(await testModelsDir(), "tiny", variant);
}

export async function loadTiny(variant: ModelVariant = "base"): Promise<LoadedModel> {
  return loadModel(await tinyModelFolder(variant), { provider: "cpu", intraOpThreads: 2 });
}

export const TINY = "pod-gpt2-tiny";

export async function tinyService(config: Partial<ServiceConfig> = {}): Promise<{ service: NodeService; model: LoadedModel }> {
  const model = await loadTiny();
  const service = new NodeService(privateKeyToAccount(generatePrivateKey()), [model], { maxBatch: 8, maxPrefillTokens: 4096, chainId: 31337, ...config });
  return { service, model };
}
