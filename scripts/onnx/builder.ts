// A small ONNX graph builder over onnx-proto, for writing test and demo models whose outputs are known in advance.
// It hands out unique names for nodes and values so larger graphs (a YOLOv8n-shaped network) can be built by
// calling helpers in loops without bookkeeping.
import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';

// onnx-proto is CommonJS: its module.exports is protobufjs' root, with the generated namespace under `onnx`.
const { onnx } = onnxProto;

export type TensorProto = OnnxTypes.ITensorProto;

/** A dimension: a fixed size, a symbolic name (e.g. 'batch'), or null for an unnamed unknown size. */
export type Dim = number | string | null;

export type ElemType = 'float32' | 'int64' | 'int32' | 'uint8' | 'bool';

const DATA_TYPES: Record<ElemType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  int64: onnx.TensorProto.DataType.INT64,
  int32: onnx.TensorProto.DataType.INT32,
  uint8: onnx.TensorProto.DataType.UINT8,
  bool: onnx.TensorProto.DataType.BOOL,
};

export const OPSET = 17;
export const IR_VERSION = 8;

/** Attribute values that cannot be told apart from a plain number or number list (floats, tensors). */
export type TaggedAttr =
  | { kind: 'float'; value: number }
  | { kind: 'floats'; value: number[] }
  | { kind: 'strings'; value: string[] }
  | { kind: 'tensor'; value: TensorProto };

/**
 * A node attribute. Plain numbers and number lists are INT / INTS (and must be integers); floats go through
 * `attr.float` / `attr.floats`, because in JS `1` and `1.0` are the same value and ONNX Runtime rejects a model whose
 * attribute has the wrong type.
 */
export type AttrValue = number | number[] | string | TaggedAttr;
export type Attrs = Record<string, AttrValue | undefined>;

export const attr = {
  float: (value: number): TaggedAttr => ({ kind: 'float', value }),
  floats: (value: number[]): TaggedAttr => ({ kind: 'floats', value: [...value] }),
  strings: (value: string[]): TaggedAttr => ({ kind: 'strings', value: [...value] }),
  tensor: (value: TensorProto): TaggedAttr => ({ kind: 'tensor', value }),
};

function checkSize(dims: number[], length: number): void {
  const expected = dims.reduce((a, b) => a * b, 1);
  if (expected !== length)
    throw new Error(`tensor of shape [${dims.join(', ')}] needs ${expected} values, got ${length}`);
}

// raw_data is little-endian whatever the host; a DataView makes that explicit, and writing into a fresh buffer also
// means protobufjs never holds a reference to the caller's array (it encodes lazily, at toBytes()).
function rawBytes(
  values: ArrayLike<number> | ArrayLike<bigint>,
  bytesPer: number,
  write: (v: DataView, i: number) => void,
) {
  const bytes = new Uint8Array(values.length * bytesPer);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) write(view, i);
  return bytes;
}

/** A float32 tensor (for initializers, Constant nodes, tensor attributes). */
export function floatTensor(dims: number[], data: ArrayLike<number>, name = ''): TensorProto {
  checkSize(dims, data.length);
  const rawData = rawBytes(data, 4, (v, i) => v.setFloat32(i * 4, data[i]!, true));
  return onnx.TensorProto.create({ name, dims: [...dims], dataType: DATA_TYPES.float32, rawData });
}

/** An int64 tensor; numbers must be safe integers. */
export function int64Tensor(dims: number[], data: ArrayLike<number> | BigInt64Array, name = ''): TensorProto {
  checkSize(dims, data.length);
  const big = data instanceof BigInt64Array ? data : BigInt64Array.from(Array.from(data, (x) => BigInt(x)));
  const rawData = rawBytes(big, 8, (v, i) => v.setBigInt64(i * 8, big[i]!, true));
  return onnx.TensorProto.create({ name, dims: [...dims], dataType: DATA_TYPES.int64, rawData });
}

function toAttribute(name: string, value: AttrValue): OnnxTypes.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error(`attribute ${name}=${value}: use attr.float() for float attributes`);
    return { name, type: T.INT, i: value };
  }
  if (typeof value === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) {
    if (!value.every(Number.isInteger)) throw new Error(`attribute ${name}: use attr.floats() for float lists`);
    return { name, type: T.INTS, ints: [...value] };
  }
  switch (value.kind) {
    case 'float':
      return { name, type: T.FLOAT, f: value.value };
    case 'floats':
      return { name, type: T.FLOATS, floats: value.value };
    case 'strings':
      return { name, type: T.STRINGS, strings: value.value.map((s) => new TextEncoder().encode(s)) };
    case 'tensor':
      return { name, type: T.TENSOR, t: value.value };
  }
}

function valueInfo(name: string, elemType: ElemType, dims: Dim[] | null): OnnxTypes.IValueInfoProto {
  const shape =
    dims === null
      ? undefined
      : {
          dim: dims.map((d) =>
            typeof d === 'number' ? { dimValue: d } : typeof d === 'string' ? { dimParam: d } : {},
          ),
        };
  return { name, type: { tensorType: { elemType: DATA_TYPES[elemType], shape } } };
}

export interface NodeOptions {
  /** Output names (used as hints, made unique) or how many outputs to create; default one. */
  outputs?: number | string[];
  /** Node name hint; default the op type. */
  name?: string;
  domain?: string;
}

export class GraphBuilder {
  /** Written to the model's metadata_props (Ultralytics keeps names, task, imgsz, stride there). */
  readonly metadata: Record<string, string> = {};
  docString = '';

  private readonly inputs: OnnxTypes.IValueInfoProto[] = [];
  private readonly outputs: OnnxTypes.IValueInfoProto[] = [];
  private readonly initializers: TensorProto[] = [];
  private readonly nodes: OnnxTypes.INodeProto[] = [];
  private readonly valueNames = new Set<string>();
  private readonly nodeNames = new Set<string>();

  constructor(readonly name: string) {}

  /** A value name not used yet, based on `hint` (hint itself when free, else hint_1, hint_2…). */
  uniqueValueName(hint: string): string {
    return unique(this.valueNames, hint);
  }

  /** Declares a graph input; returns its name (exactly `name`: inputs are looked up by name, so no renaming). */
  input(name: string, dims: Dim[] | null, elemType: ElemType = 'float32'): string {
    if (this.valueNames.has(name)) throw new Error(`value name ${name} already used`);
    this.valueNames.add(name);
    this.inputs.push(valueInfo(name, elemType, dims));
    return name;
  }

  /**
   * Declares a graph output. Without `from`, `name` must be an existing value (e.g. a node output named via
   * NodeOptions.outputs); with `from`, an Identity node copies `from` into a new value called `name`.
   */
  output(name: string, dims: Dim[] | null, elemType: ElemType = 'float32', from?: string): string {
    if (from !== undefined && from !== name) {
      if (this.valueNames.has(name)) throw new Error(`value name ${name} already used`);
      this.node('Identity', [from], {}, { outputs: [name] });
    } else if (!this.valueNames.has(name)) {
      throw new Error(`output ${name} is not a value of graph ${this.name}`);
    }
    this.outputs.push(valueInfo(name, elemType, dims));
    return name;
  }

  /** Adds an initializer (its name is made unique from the tensor's name); returns the name. */
  initializer(tensor: TensorProto): string {
    const name = this.uniqueValueName(tensor.name || 'init');
    this.initializers.push({ ...tensor, name });
    return name;
  }

  /** A float32 initializer; `data` may be a single number to fill the tensor (dims [] gives a scalar). */
  float(name: string, dims: number[], data: ArrayLike<number> | number): string {
    const values = typeof data === 'number' ? new Float32Array(dims.reduce((a, b) => a * b, 1)).fill(data) : data;
    return this.initializer(floatTensor(dims, values, name));
  }

  /** An int64 initializer; dims default to a 1-D tensor of data.length (the shape of axes/shape/starts inputs). */
  int64(name: string, data: ArrayLike<number> | BigInt64Array, dims: number[] = [data.length]): string {
    return this.initializer(int64Tensor(dims, data, name));
  }

  /** Adds a node; returns its output names. Inputs may be '' for omitted optional inputs. */
  node(opType: string, inputs: string[], attrs: Attrs = {}, opts: NodeOptions = {}): string[] {
    // Validate before reserving any names, so a failed call leaves the builder unchanged.
    for (const input of inputs) {
      if (input !== '' && !this.valueNames.has(input)) throw new Error(`${opType}: unknown input ${input}`);
    }
    const attribute = Object.entries(attrs)
      .filter((entry): entry is [string, AttrValue] => entry[1] !== undefined)
      .map(([key, value]) => toAttribute(key, value));
    const nodeName = unique(this.nodeNames, opts.name ?? opType);
    const outputHints =
      typeof opts.outputs === 'object'
        ? opts.outputs
        : Array.from({ length: opts.outputs ?? 1 }, (_, i) => `${nodeName}_output_${i}`);
    const outputs = outputHints.map((hint) => this.uniqueValueName(hint));
    this.nodes.push({
      name: nodeName,
      opType,
      domain: opts.domain ?? '',
      input: [...inputs],
      output: outputs,
      attribute,
    });
    return outputs;
  }

  /** Adds a single-output node; returns its output name. */
  op(
    opType: string,
    inputs: string[],
    attrs: Attrs = {},
    opts: Omit<NodeOptions, 'outputs'> & { output?: string } = {},
  ): string {
    const { output, ...rest } = opts;
    return this.node(opType, inputs, attrs, { ...rest, outputs: output === undefined ? 1 : [output] })[0]!;
  }

  toProto(): OnnxTypes.ModelProto {
    return onnx.ModelProto.create({
      irVersion: IR_VERSION,
      opsetImport: [{ domain: '', version: OPSET }],
      producerName: 'inference-pool',
      producerVersion: '0.1.0',
      docString: this.docString,
      graph: {
        name: this.name,
        node: this.nodes,
        input: this.inputs,
        output: this.outputs,
        initializer: this.initializers,
      },
      metadataProps: Object.entries(this.metadata).map(([key, value]) => ({ key, value })),
    });
  }

  toBytes(): Uint8Array {
    // protobufjs may return a Buffer that is a view into a shared pool; copy to a standalone Uint8Array.
    return new Uint8Array(onnx.ModelProto.encode(this.toProto()).finish());
  }
}

function unique(used: Set<string>, hint: string): string {
  let name = hint;
  for (let i = 1; used.has(name); i++) name = `${hint}_${i}`;
  used.add(name);
  return name;
}

/** Python's repr() of a str, as Ultralytics writes it via str(dict): single quotes unless the text has one. */
export function pythonStr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  const body = s
    .replace(/\\/g, '\\\\')
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r')
    .replace(/\t/g, '\\t')
    .replace(quote === "'" ? /'/g : /"/g, `\\${quote}`);
  return `${quote}${body}${quote}`;
}

/** The `names` metadata value exactly as Ultralytics exports it, e.g. `{0: 'red', 1: 'green'}`. */
export function ultralyticsNames(names: readonly string[]): string {
  return `{${names.map((n, i) => `${i}: ${pythonStr(n)}`).join(', ')}}`;
}

/** Ultralytics' default names for unnamed classes: class0, class1, … */
export function defaultNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `class${i}`);
}
