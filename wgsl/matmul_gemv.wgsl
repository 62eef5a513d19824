// matmul_gemv: out[n_off + n] = act(sum_k x[k] * B(k, n) + bias[n_off + n]) + res[n_off + n]
// One row times a packed B (pack_blocks' [ceil(N / RN)][K][RN] blocks: a PackedMatmulWeight, as
// the model's layers and output projection hold theirs): a transformer decode step. Invocation e
// owns the 4 columns of vec4 slot e % R4 of block e / R4 and walks k with x(k) a uniform load; the
// 8 lanes of a SIMD row read 2 blocks' 64 contiguous bytes per k. Memory-bound: the weight is read
// once; a weight over maxStorageBufferBindingSize is bound as block chunks (one launch per chunk,
// n_off = first column of the chunk, n = its columns).
//
// x:    array<f32>        [K]
// b:    array<vec4<f32>>  this chunk's packed blocks
// bias: array<f32>        [N_total]  read only when has_bias != 0
// res:  array<f32>        [N_total]  read only when has_res != 0
// out:  array<f32>        [N_total]
// ACT: 0 none, 1 silu, 2 relu, 3 gelu (lib/act.wgsl).
// Dispatch: ceil(blocks RN / 4 / WG) workgroups, folded into (x, y).

// #include "lib/grid.wgsl"
// #include "lib/act.wgsl"

override WG: u32 = 64;
override RN: u32 = 16;  // packed block width
override ACT: u32 = 0;
override R4: u32 = RN / 4u;

struct Params {
  n: u32,
  k: u32,
  n_off: u32,
  has_bias: u32,
  has_res: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read> res: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<uniform> params: Params;

// #include "lib/matmul_store4.wgsl"

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let e = flat_workgroup(wid, nwg) * WG + lid;
  let K = params.k;
  let blk = e / R4;
  let c0 = blk * RN + (e % R4) * 4u;
  if (c0 >= params.n) {
    return;
  }
  let wk = blk * K * R4 + e % R4;
  var acc = vec4(0.0);
  for (var k = 0u; k < K; k++) {
    acc = fma(vec4(x[k]), b[wk + k * R4], acc);
  }
  store4(params.n_off + c0, c0, acc);
}
