/**
 * Writes a GPT-2-shaped decoder as an ONNX graph in the Hugging Face (Optimum) export layout:
 * inputs `input_ids`, `attention_mask`, `position_ids`, `past_key_values.N.key/value`;
 * outputs `logits`, `present.N.key/value`. One graph serves prefill (past length 0) and decode.
 */
import { GraphBuilder, encodeModel, type ValueInfo } from "./onnxGraph.ts";
import { Xoshiro128, fillUniform, hashSeed } from "./rng.ts";

export type Gpt2Shape = {
  vocabSize: number;
  contextLength: number;
  layers: number;
  width: number;
  heads: number;
};

export type WeightPerturbation = { kind: "none" } | { kind: "fake-quant"; bits: number; blockSize: number };

export type Gpt2BuildInput = {
  shape: Gpt2Shape;
  seed: string;
  perturbation: WeightPerturbation;
  externalDataFile: string;
  metadata: Record<string, string>;
};

export type Gpt2BuildOutput = { modelProto: Uint8Array; externalData: Uint8Array[]; parameterCount: number };

/** float32 lowest: HF fills masked attention scores with finfo.min, so exp() underflows to exactly 0. */
const MASK_FILL = -3.4028234663852886e38;

export function countParameters(shape: Gpt2Shape): number {
  const { vocabSize: V, contextLength: C, layers: L, width: D } = shape;
  const perLayer = 2 * D + (D * 3 * D + 3 * D) + (D * D + D) + 2 * D + (D * 4 * D + 4 * D) + (4 * D * D + D);
  return V * D + C * D + L * perLayer + 2 * D;
}

export function buildGpt2(input: Gpt2BuildInput): Gpt2BuildOutput {
  const { shape, perturbation } = input;
  const { vocabSize: V, contextLength: C, layers: L, width: D, heads: H } = shape;
  if (D % H !== 0) throw new Error(`width ${D} is not divisible by heads ${H}`);
  const headDim = D / H;
  const g = new GraphBuilder(input.externalDataFile);
  const rng = new Xoshiro128(hashSeed(input.seed));

  // GPT-2 init: N(0, 0.02) (here uniform with that std); residual projections scaled by 1/sqrt(2L).
  const random = (name: string, dims: number[], std: number): string => {
    const values = new Float32Array(dims.reduce((a, b) => a * b, 1));
    fillUniform(values, rng, std);
    if (perturbation.kind === "fake-quant") fakeQuantize(values, perturbation.bits, perturbation.blockSize);
    return g.weight(name, dims, values);
  };
  const constant = (name: string, dims: number[], value: number): string => g.weight(name, dims, new Float32Array(dims.reduce((a, b) => a * b, 1)).fill(value));
  const residualStd = 0.02 / Math.sqrt(2 * L);

  const wte = random("transformer.wte.weight", [V, D], 0.02);
  const wpe = random("transformer.wpe.weight", [C, D], 0.01);

  // Mask shared by every layer: causal within [past, past+S) and the caller's attention_mask.
  const totalLen = g.op1("Gather", [g.op1("Shape", ["attention_mask"]), g.constInt64([1], [])], { axis: 0 });
  const seqLen = g.op1("Gather", [g.op1("Shape", ["input_ids"]), g.constInt64([1], [])], { axis: 0 });
  const pastLen = g.op1("Sub", [totalLen, seqLen]);
  const keyIndex = g.op1("Range", [g.constInt64([0], []), totalLen, g.constInt64([1], [])]);
  const queryIndex = g.op1("Unsqueeze", [g.op1("Range", [pastLen, totalLen, g.constInt64([1], [])]), g.constInt64([1])]);
  const causal = g.op1("LessOrEqual", [keyIndex, queryIndex]); // [S, T]
  const keep = g.op1("Unsqueeze", [g.op1("Cast", ["attention_mask"], { to: 9 }), g.constInt64([1, 2])]); // [B,1,1,T]
  const mask = g.op1("And", [causal, keep]); // [B,1,S,T]
  const maskFill = g.constFloat(MASK_FILL);
  const scale = g.constFloat(1 / Math.sqrt(headDim));
  const headsShape = g.constInt64([0, 0, H, headDim]);
  const mergedShape = g.constInt64([0, 0, D]);

  let hidden = g.op1("Add", [g.op1("Gather", [wte, "input_ids"], { axis: 0 }), g.op1("Gather", [wpe, "position_ids"], { axis: 0 })]);

  for (let layer = 0; layer < L; layer++) {
    const p = `transformer.h.${layer}`;
    const ln1 = g.op1("LayerNormalization", [hidden, constant(`${p}.ln_1.weight`, [D], 1), constant(`${p}.ln_1.bias`, [D], 0)], { axis: -1, epsilon: 1e-5 });
    const qkv = g.op1("Add", [g.op1("MatMul", [ln1, random(`${p}.attn.c_attn.weight`, [D, 3 * D], 0.02)]), constant(`${p}.attn.c_attn.bias`, [3 * D], 0)]);
    const [q, k, v] = g.op("Split", [qkv, g.constInt64([D, D, D])], { axis: 2 }, 3) as [string, string, string];
    const toHeads = (x: string): string => g.op1("Transpose", [g.op1("Reshape", [x, headsShape])], { perm: [0, 2, 1, 3] });
    const presentKey = `present.${layer}.key`;
    const presentValue = `present.${layer}.value`;
    g.named("Concat", [`past_key_values.${layer}.key`, toHeads(k)], [presentKey], { axis: 2 });
    g.named("Concat", [`past_key_values.${layer}.value`, toHeads(v)], [presentValue], { axis: 2 });
    const scores = g.op1("Mul", [g.op1("MatMul", [toHeads(q), g.op1("Transpose", [presentKey], { perm: [0, 1, 3, 2] })]), scale]);
    const probs = g.op1("Softmax", [g.op1("Where", [mask, scores, maskFill])], { axis: -1 });
    const context = g.op1("Reshape", [g.op1("Transpose", [g.op1("MatMul", [probs, presentValue])], { perm: [0, 2, 1, 3] }), mergedShape]);
    const attnOut = g.op1("Add", [g.op1("MatMul", [context, random(`${p}.attn.c_proj.weight`, [D, D], residualStd)]), constant(`${p}.attn.c_proj.bias`, [D], 0)]);
    hidden = g.op1("Add", [hidden, attnOut]);

    const ln2 = g.op1("LayerNormalization", [hidden, constant(`${p}.ln_2.weight`, [D], 1), constant(`${p}.ln_2.bias`, [D], 0)], { axis: -1, epsilon: 1e-5 });
    const fc = g.op1("Add", [g.op1("MatMul", [ln2, random(`${p}.mlp.c_fc.weight`, [D, 4 * D], 0.02)]), constant(`${p}.mlp.c_fc.bias`, [4 * D], 0)]);
    const mlpOut = g.op1("Add", [g.op1("MatMul", [geluNew(g, fc), random(`${p}.mlp.c_proj.weight`, [4 * D, D], residualStd)]), constant(`${p}.mlp.c_proj.bias`, [D], 0)]);
    hidden = g.op1("Add", [hidden, mlpOut]);
  }

  const lnF = g.op1("LayerNormalization", [hidden, constant("transformer.ln_f.weight", [D], 1), constant("transformer.ln_f.bias", [D], 0)], { axis: -1, epsilon: 1e-5 });
  // Tied LM head: logits = h · wteᵀ as a Gemm with transB, so no transposed copy is made.
  const rowsShape = g.op1("Shape", [lnF]);
  const flat = g.op1("Reshape", [lnF, g.constInt64([-1, D])]);
  const flatLogits = g.op1("Gemm", [flat, wte], { transB: 1 });
  const logitsShape = g.op1("Concat", [g.op1("Slice", [rowsShape, g.constInt64([0]), g.constInt64([2])]), g.constInt64([V])], { axis: 0 });
  g.named("Reshape", [flatLogits, logitsShape], ["logits"]);

  const inputs: ValueInfo[] = [
    { name: "input_ids", elemType: "int64", shape: ["batch_size", "sequence_length"] },
    { name: "attention_mask", elemType: "int64", shape: ["batch_size", "past_sequence_length + sequence_length"] },
    { name: "position_ids", elemType: "int64", shape: ["batch_size", "sequence_length"] },
  ];
  const outputs: ValueInfo[] = [{ name: "logits", elemType: "float", shape: ["batch_size", "sequence_length", V] }];
  for (let layer = 0; layer < L; layer++) {
    for (const kind of ["key", "value"]) {
      inputs.push({ name: `past_key_values.${layer}.${kind}`, elemType: "float", shape: ["batch_size", H, "past_sequence_length", headDim] });
      outputs.push({ name: `present.${layer}.${kind}`, elemType: "float", shape: ["batch_size", H, "past_sequence_length + sequence_length", headDim] });
    }
  }
  const modelProto = encodeModel(g, "pod_gpt2_decoder", inputs, outputs, input.metadata);
  return { modelProto, externalData: g.externalChunks, parameterCount: countParameters(shape) };
}

/** gelu_new (tanh approximation), as GPT-2 uses. */
function geluNew(g: GraphBuilder, x: string): string {
  const cube = g.op1("Mul", [g.op1("Mul", [x, x]), x]);
  const inner = g.op1("Mul", [g.op1("Add", [x, g.op1("Mul", [cube, g.constFloat(0.044715)])]), g.constFloat(Math.sqrt(2 / Math.PI))]);
  const gate = g.op1("Add", [g.op1("Tanh", [inner]), g.constFloat(1)]);
  return g.op1("Mul", [g.op1("Mul", [x, gate]), g.constFloat(0.5)]);
}

/**
 * Symmetric block-wise quantize-dequantize in place: the weights a node would serve if it
 * swapped in a more heavily quantized copy of the model. Validators must be able to tell.
 */
export function fakeQuantize(values: Float32Array, bits: number, blockSize: number): void {
  const levels = 2 ** (bits - 1) - 1;
  for (let start = 0; start < values.length; start += blockSize) {
    const end = Math.min(start + blockSize, values.length);
    let maxAbs = 0;
    for (let i = start; i < end; i++) maxAbs = Math.max(maxAbs, Math.abs(values[i]!));
    if (maxAbs === 0) continue;
    const step = maxAbs / levels;
    for (let i = start; i < end; i++) values[i] = Math.round(values[i]! / step) * step;
  }
}
