/**
 * A minimal ONNX (protobuf) writer for the one-node graphs the peer benchmarks feed to
 * onnxruntime-web and onnxruntime-node. Field numbers follow onnx/onnx.proto3; only the fields a
 * single-op float32 model needs are written (ModelProto, GraphProto, NodeProto, AttributeProto,
 * TensorProto with raw_data, ValueInfoProto with a static shape).
 */

class Writer {
  private bytes: number[] = [];

  private varint(v: number | bigint): void {
    // int64 fields are two's complement, so negative values take ten bytes.
    let x = BigInt.asUintN(64, BigInt(v));
    while (x >= 0x80n) {
      this.bytes.push(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    this.bytes.push(Number(x));
  }

  private key(field: number, wire: 0 | 1 | 2 | 5): void {
    this.varint((field << 3) | wire);
  }

  int(field: number, v: number): this {
    this.key(field, 0);
    this.varint(v);
    return this;
  }

  float(field: number, v: number): this {
    this.key(field, 5);
    const b = new Uint8Array(new Float32Array([v]).buffer);
    this.bytes.push(...b);
    return this;
  }

  raw(field: number, b: Uint8Array): this {
    this.key(field, 2);
    this.varint(b.length);
    for (let i = 0; i < b.length; i++) this.bytes.push(b[i]!);
    return this;
  }

  str(field: number, s: string): this {
    return this.raw(field, new TextEncoder().encode(s));
  }

  msg(field: number, w: Writer): this {
    return this.raw(field, w.finish());
  }

  packedInts(field: number, vs: readonly number[]): this {
    const inner = new Writer();
    for (const v of vs) inner.varint(v);
    return this.raw(field, inner.finish());
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

const FLOAT = 1; // TensorProto.DataType.FLOAT

export type Attr = number | number[] | string;

export interface OnnxNode {
  op: string;
  domain?: string;
  inputs: string[];
  outputs: string[];
  /** Integers become INT/INTS, non-integers FLOAT, strings STRING. */
  attrs?: Record<string, Attr>;
}

export interface OnnxGraph {
  nodes: OnnxNode[];
  inputs: { name: string; shape: number[] }[];
  outputs: { name: string; shape: number[] }[];
  /** Float32 constants stored in the model (weights). */
  initializers?: { name: string; shape: number[]; data: Float32Array }[];
  /** Default-domain opset; 'com.microsoft' is imported at version 1 when a node uses it. */
  opset?: number;
}

function valueInfo(name: string, shape: number[]): Writer {
  const dims = new Writer();
  for (const d of shape) dims.msg(1, new Writer().int(1, d));
  const tensorType = new Writer().int(1, FLOAT).msg(2, dims);
  return new Writer().str(1, name).msg(2, new Writer().msg(1, tensorType));
}

function attribute(name: string, v: Attr): Writer {
  const w = new Writer().str(1, name);
  if (typeof v === 'string') return w.str(4, v).int(20, 3);
  if (Array.isArray(v)) return w.packedInts(8, v).int(20, 7);
  return Number.isInteger(v) ? w.int(3, v).int(20, 2) : w.float(2, v).int(20, 1);
}

/** Serialises a graph as ONNX model bytes (IR version 8). */
export function encodeModel(g: OnnxGraph): Uint8Array {
  const graph = new Writer();
  g.nodes.forEach((n, i) => {
    const node = new Writer();
    for (const x of n.inputs) node.str(1, x);
    for (const x of n.outputs) node.str(2, x);
    node.str(3, `${n.op}_${i}`).str(4, n.op);
    for (const [k, v] of Object.entries(n.attrs ?? {})) node.msg(5, attribute(k, v));
    if (n.domain) node.str(7, n.domain);
    graph.msg(1, node);
  });
  graph.str(2, 'bench');
  for (const t of g.initializers ?? []) {
    const tp = new Writer().packedInts(1, t.shape).int(2, FLOAT).str(8, t.name);
    graph.msg(5, tp.raw(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)));
  }
  for (const x of g.inputs) graph.msg(11, valueInfo(x.name, x.shape));
  for (const x of g.outputs) graph.msg(12, valueInfo(x.name, x.shape));
  const model = new Writer().int(1, 8).str(2, 'videoworld-webgpu bench');
  model.msg(7, graph);
  model.msg(8, new Writer().str(1, '').int(2, g.opset ?? 17));
  if (g.nodes.some((n) => n.domain === 'com.microsoft')) model.msg(8, new Writer().str(1, 'com.microsoft').int(2, 1));
  return model.finish();
}
