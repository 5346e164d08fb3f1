/**
 * Execution provider choice. onnxruntime-node ships CPU in its npm package; the CUDA provider
 * libraries come from a networked install (not possible on every machine), so "auto" uses CUDA
 * only when its library is next to the binding and falls back to CPU otherwise, saying why.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import ort from "onnxruntime-node";
import { log } from "../log.ts";
import { ModelInvalidError } from "../errors.ts";

export const PROVIDER_CHOICES = ["auto", "cuda", "cpu"] as const;
export type ProviderChoice = (typeof PROVIDER_CHOICES)[number];
export type ActiveProvider = "cuda" | "cpu";

export type SessionOptions = { provider: ProviderChoice; intraOpThreads?: number | undefined };

/** Folder holding onnxruntime-node's native binding and any provider libraries. */
export function ortBinaryDir(): string {
  const entry = createRequire(import.meta.url).resolve("onnxruntime-node");
  return path.join(path.dirname(entry), "..", "bin", "napi-v6", process.platform, process.arch);
}

export function cudaLibraryPath(): string {
  return path.join(ortBinaryDir(), process.platform === "win32" ? "onnxruntime_providers_cuda.dll" : "libonnxruntime_providers_cuda.so");
}

/** Pure decision: which provider to try first, given the choice and what is installed. */
export function planProviders(choice: ProviderChoice, cudaInstalled: boolean): { first: ActiveProvider; fallbackToCpu: boolean } {
  if (choice === "cpu") return { first: "cpu", fallbackToCpu: false };
  if (choice === "cuda") return { first: "cuda", fallbackToCpu: false };
  return cudaInstalled ? { first: "cuda", fallbackToCpu: true } : { first: "cpu", fallbackToCpu: false };
}

function ortOptions(provider: ActiveProvider, threads: number | undefined): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: provider === "cuda" ? ["cuda", "cpu"] : ["cpu"],
    graphOptimizationLevel: "all",
    ...(threads === undefined ? {} : { intraOpNumThreads: threads }),
  };
}

export async function createSession(modelPath: string, options: SessionOptions): Promise<{ session: ort.InferenceSession; provider: ActiveProvider }> {
  const cudaPath = cudaLibraryPath();
  const cudaInstalled = existsSync(cudaPath);
  const plan = planProviders(options.provider, cudaInstalled);
  if (options.provider === "auto" && !cudaInstalled) {
    log("info", "CUDA execution provider not installed; using CPU", { looked_for: cudaPath });
  }
  try {
    const session = await ort.InferenceSession.create(modelPath, ortOptions(plan.first, options.intraOpThreads));
    log("info", `execution provider: ${plan.first}`, { model: modelPath, forced: options.provider !== "auto" });
    return { session, provider: plan.first };
  } catch (cause) {
    if (!plan.fallbackToCpu) {
      const hint = plan.first === "cuda" ? ` (--provider cuda needs ${cudaPath} and the CUDA/cuDNN libraries; use --provider auto to fall back)` : "";
      throw new ModelInvalidError(`could not start ONNX Runtime with the ${plan.first} provider${hint}: ${String(cause)}`, { cause });
    }
    log("warn", "CUDA execution provider failed to start; falling back to CPU", { error: String(cause) });
    const session = await ort.InferenceSession.create(modelPath, ortOptions("cpu", options.intraOpThreads));
    log("info", "execution provider: cpu", { model: modelPath });
    return { session, provider: "cpu" };
  }
}
