/**
 * A small ONNX graph builder over onnx-proto (IR 8, opset 17). Large tensors go to an external
 * data file (as Hugging Face exports do for big models), small constants stay inline.
 */
import onnxProto from "onnx-proto";

const { onnx } = onnxProto;
export type TensorProto = InstanceType<typeof onnx.TensorProto>;
export type NodeProto = InstanceType<typeof onnx.NodeProto>;

/** External data offsets are page aligned so the runtime may map them directly. */
const EXTERNAL_ALIGNMENT = 4096;

export type AttributeValue = number | number[] | string | TensorProto;

export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  /** Chunks of the external data file, in order, with zero padding between them. */
  readonly externalChunks: Uint8Array[] = [];
  private externalLength = 0;
  private counter = 0;
  private readonly externalFile: string;

  constructor(externalFile: string) {
    this.externalFile = externalFile;
  }

  /** Adds one node and returns the names of its outputs. */
  op(opType: string, inputs: string[], attributes: Record<string, AttributeValue> = {}, outputCount = 1): string[] {
    const id = this.counter++;
    const outputs = Array.from({ length: outputCount }, (_, i) => `${opType.toLowerCase()}_${id}_${i}`);
    this.nodes.push(this.node(opType, inputs, outputs, attributes, `${opType}_${id}`));
    return outputs;
  }

  /** Adds a node with one output and returns that output. */
  op1(opType: string, inputs: string[], attributes: Record<string, AttributeValue> = {}): string {
    return this.op(opType, inputs, attributes, 1)[0]!;
  }

  /** Adds a node whose outputs carry given names (graph outputs such as present.N.key). */
  named(opType: string, inputs: string[], outputs: string[], attributes: Record<string, AttributeValue> = {}): void {
    this.nodes.push(this.node(opType, inputs, outputs, attributes, `${opType}_${this.counter++}`));
  }

  /** A float32 weight stored in the external data file. */
  weight(name: string, dims: number[], values: Float32Array): string {
    const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    const padding = (EXTERNAL_ALIGNMENT - (this.externalLength % EXTERNAL_ALIGNMENT)) % EXTERNAL_ALIGNMENT;
    if (padding > 0) this.externalChunks.push(new Uint8Array(padding));
    const offset = this.externalLength + padding;
    // Copy: the caller may reuse its buffer for the next tensor.
    this.externalChunks.push(bytes.slice());
    this.externalLength = offset + bytes.byteLength;
    this.initializers.push(
      onnx.TensorProto.create({
        name,
        dims,
        dataType: onnx.TensorProto.DataType.FLOAT,
        dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
        externalData: [
          { key: "location", value: this.externalFile },
          { key: "offset", value: String(offset) },
          { key: "length", value: String(bytes.byteLength) },
        ],
      }),
    );
    return name;
  }

  /** A small inline constant (int64 shapes, scalars). */
  constInt64(values: number[], dims: number[] = [values.length]): string {
    const name = `const_i64_${this.counter++}`;
    this.initializers.push(onnx.TensorProto.create({ name, dims, dataType: onnx.TensorProto.DataType.INT64, int64Data: values }));
    return name;
  }

  constFloat(value: number): string {
    const name = `const_f32_${this.counter++}`;
    this.initializers.push(onnx.TensorProto.create({ name, dims: [], dataType: onnx.TensorProto.DataType.FLOAT, floatData: [value] }));
    return name;
  }

  private node(opType: string, inputs: string[], outputs: string[], attributes: Record<string, AttributeValue>, name: string): NodeProto {
    return onnx.NodeProto.create({
      opType,
      name,
      input: inputs,
      output: outputs,
      attribute: Object.entries(attributes).map(([attrName, value]) => attribute(attrName, value)),
    });
  }
}

function attribute(name: string, value: AttributeValue): InstanceType<typeof onnx.AttributeProto> {
  const A = onnx.AttributeProto.AttributeType;
  if (typeof value === "string") return onnx.AttributeProto.create({ name, type: A.STRING, s: new TextEncoder().encode(value) });
  if (Array.isArray(value)) return onnx.AttributeProto.create({ name, type: A.INTS, ints: value });
  if (typeof value === "number") {
    return Number.isInteger(value) && !Object.is(value, -0)
      ? onnx.AttributeProto.create({ name, type: A.INT, i: value })
      : onnx.AttributeProto.create({ name, type: A.FLOAT, f: value });
  }
  return onnx.AttributeProto.create({ name, type: A.TENSOR, t: value });
}

export type ValueInfo = { name: string; elemType: "float" | "int64"; shape: (number | string)[] };

function valueInfo(info: ValueInfo): InstanceType<typeof onnx.ValueInfoProto> {
  return onnx.ValueInfoProto.create({
    name: info.name,
    type: {
      tensorType: {
        elemType: info.elemType === "float" ? onnx.TensorProto.DataType.FLOAT : onnx.TensorProto.DataType.INT64,
        shape: { dim: info.shape.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) },
      },
    },
  });
}

/** Serializes the model proto (graph structure only; weights live in the external chunks). */
export function encodeModel(builder: GraphBuilder, graphName: string, inputs: ValueInfo[], outputs: ValueInfo[], metadata: Record<string, string>): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: "pod-node model:build",
    producerVersion: "1",
    opsetImport: [{ domain: "", version: 17 }],
    metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
    graph: {
      name: graphName,
      node: builder.nodes,
      initializer: builder.initializers,
      input: inputs.map(valueInfo),
      output: outputs.map(valueInfo),
    },
  });
  return onnx.ModelProto.encode(model).finish();
}
