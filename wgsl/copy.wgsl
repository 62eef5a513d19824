// copy: dst[i] = src[i], 16 bytes per invocation. The bandwidth roofline every memory-bound
// kernel is measured against (one read + one write per element).
//
// src: array<vec4<u32>>  (n4 vec4s; the tensor's binding is rounded up to 16 bytes)
// dst: array<vec4<u32>>
// Dispatch: ceil(n4 / WG) workgroups, folded into (x, y).

// #include "lib/grid.wgsl"

override WG: u32 = 256;

struct Params {
  n4: u32,
}

@group(0) @binding(0) var<storage, read> src: array<vec4<u32>>;
@group(0) @binding(1) var<storage, read_write> dst: array<vec4<u32>>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flat_workgroup(wid, nwg) * WG + lid;
  if (i < params.n4) {
    dst[i] = src[i];
  }
}
