// The body of matmul_gemv.wgsl and matmul_gemv_f16.wgsl; B comes from the including shader's b4()
// (lib/packed_b_f32.wgsl, lib/packed_b_f16.wgsl).
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
    acc = fma(vec4(x[k]), b4(wk + k * R4), acc);
  }
  store4(params.n_off + c0, c0, acc);
}
