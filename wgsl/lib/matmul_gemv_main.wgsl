// The body of matmul_gemv.wgsl and matmul_gemv_f16.wgsl; B comes from the including shader's b8()
// (lib/packed_b8_f32.wgsl, lib/packed_b8_f16.wgsl).
// #include "lib/grid.wgsl"
// #include "lib/act.wgsl"

override WG: u32 = 64;
override RN: u32 = 16;  // packed block width, a multiple of 8
override ACT: u32 = 0;
override R8: u32 = RN / 8u;
// SwiGLU: out = silu(x B_gate) * (x B_up), the up columns up_off b8 entries after the gate's.
override GLU: bool = false;
// x's vec4s read from xu (K <= 16384, copied there by the host) instead of x4: on lavapipe a
// uniform load is a per-lane gather without the storage path's per-lane bounds branches, 7-14%
// less time for the whole GEMV (bench/README.md).
override X_UNIFORM: bool = false;

struct Params {
  n: u32,
  k: u32,
  n_off: u32,
  has_bias: u32,
  has_res: u32,
  up_off: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(6) var<storage, read> x4: array<vec4<f32>>;
@group(0) @binding(7) var<uniform> xu: array<vec4<f32>, 4096>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read> res: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<uniform> params: Params;

// #include "lib/matmul_store4.wgsl"

// The 8 columns' sums over all k of the weight whose k-row 0 is b8 entry w0 (8 columns of packed
// k-row k at w0 + k R8).
fn dot8(w0: u32) -> array<vec4<f32>, 2> {
  let K = params.k;
  var acc0 = vec4(0.0);
  var acc1 = vec4(0.0);
  let k4n = K / 4u;
  for (var k4 = 0u; k4 < k4n; k4++) {
    var xv: vec4<f32>;
    if (X_UNIFORM) {
      xv = xu[k4];
    } else {
      xv = x4[k4];
    }
    for (var q = 0u; q < 4u; q++) {
      let w = b8(w0 + (4u * k4 + q) * R8);
      acc0 = fma(vec4(xv[q]), w[0], acc0);
      acc1 = fma(vec4(xv[q]), w[1], acc1);
    }
  }
  for (var k = 4u * k4n; k < K; k++) {
    let w = b8(w0 + k * R8);
    acc0 = fma(vec4(x[k]), w[0], acc0);
    acc1 = fma(vec4(x[k]), w[1], acc1);
  }
  return array<vec4<f32>, 2>(acc0, acc1);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let e = flat_workgroup(wid, nwg) * WG + lid;
  let blk = e / R8;
  let c0 = blk * RN + (e % R8) * 8u;
  if (c0 >= params.n) {
    return;
  }
  let wk = blk * params.k * R8 + e % R8;
  var acc = dot8(wk);
  if (GLU) {
    // Gate, then up, in two walks over k: summing both in one walk holds four vec4 accumulators
    // (16 SIMD registers on lavapipe), which spill: 1.7x the time (bench/README.md).
    let up = dot8(wk + params.up_off);
    // store4 adds no bias (has_bias = 0) and applies ACT = 0.
    acc[0] = act4(acc[0], 1u) * up[0];
    acc[1] = act4(acc[1], 1u) * up[1];
  }
  store4(params.n_off + c0, c0, acc[0]);
  if (c0 + 4u < params.n) {
    store4(params.n_off + c0 + 4u, c0 + 4u, acc[1]);
  }
}
