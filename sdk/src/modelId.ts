/**
 * The on-chain key of a model (NodeRegistry, ProtocolParams.modelParams): the model id's UTF-8
 * bytes left-aligned in a bytes32, as manifests and the API name it (e.g. "pod-gpt2-tiny").
 */
import { stringToHex, type Hex } from "viem";

/** Undefined when the id cannot be one (longer than 32 bytes). */
export function registryModelId(model: string): Hex | undefined {
  if (new TextEncoder().encode(model).length > 32) return undefined;
  return stringToHex(model, { size: 32 });
}
