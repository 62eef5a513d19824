// The body of pack_blocks.wgsl, pack_blocks_f16.wgsl and pack_blocks_h16.wgsl: gathers the 4
// source elements of output vec4 e of the blocked copy through the including shader's
// src_at(s) -> Elem (it owns the `src` binding, binding 0) and hands them to its put(e, v) (the
// `out` binding, binding 1).
// #include "lib/grid.wgsl"

override WG: u32 = 64;
override R: u32 = 16;  // block width, a multiple of 4
override TRANS: bool = false;
override R4: u32 = R / 4u;

struct Params {
  batch: u32,
  n: u32,
  k: u32,
  cols: u32,
  n_off: u32,
}

@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let e = flat_workgroup(wid, nwg) * WG + lid;
  let K = params.k;
  let per_batch = (params.cols + R - 1u) / R * K * R4;
  if (e >= params.batch * per_batch) {
    return;
  }
  let z = e / per_batch;
  let row = (e % per_batch) / R4;  // blk K + k
  let k = row % K;
  let c0 = params.n_off + (row / K) * R + (e % R4) * 4u;
  var v: array<Elem, 4>;
  for (var q = 0u; q < 4u; q++) {
    let c = min(c0 + q, params.n_off + params.cols - 1u);
    var s = z * params.n * K;
    if (TRANS) {
      s += c * K + k;
    } else {
      s += k * params.n + c;
    }
    v[q] = src_at(s);
  }
  put(e, v);
}
