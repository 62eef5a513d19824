// embedding_backward: dtable[id, :] = sum of g[p, :] over the positions p with ids[p] = id, in
// ascending p (torch's CPU embedding backward accumulates in that order too), for one row chunk of
// the table. Deterministic without atomics: the host groups positions by id (CSR: ascending unique
// ids, offsets, positions), and each invocation owns one unique id and 4 columns, so every output
// element is written by exactly one invocation with a fixed summation order.
// A table over one storage binding (160005 x 1024 f32 = 625 MiB) is bound as row chunks
// [row0, row0 + rows); the launch for a chunk covers its unique ids u0 .. u0 + count / groups - 1.
// ZERO: instead, zero the chunk's first n elements (a caller's table: ids that never occur get 0).
//
// uniq:    array<i32>  [U] ascending unique ids
// offsets: array<u32>  [U + 1] positions of uniq[j] are pos[offsets[j] .. offsets[j + 1])
// pos:     array<u32>  [N] ascending within each id
// g:       array<f32>  [N, D]
// table:   array<f32>  [rows, D] = table rows row0 .. row0 + rows - 1
// Dispatch: ceil(count / WG) workgroups, folded into (x, y); count = unique ids x groups
// (groups = ceil(D / 4)), or ceil(n / 4) for ZERO.

// #include "lib/grid.wgsl"

override WG: u32 = 64;
override ZERO: bool = false;

struct Params {
  count: u32,
  u0: u32,
  d: u32,
  groups: u32,
  row0: u32,
  n: u32,
}

@group(0) @binding(0) var<storage, read> uniq: array<i32>;
@group(0) @binding(1) var<storage, read> offsets: array<u32>;
@group(0) @binding(2) var<storage, read> pos: array<u32>;
@group(0) @binding(3) var<storage, read> g: array<f32>;
@group(0) @binding(4) var<storage, read_write> table: array<f32>;
@group(0) @binding(5) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flat_workgroup(wid, nwg) * WG + lid;
  if (i >= params.count) {
    return;
  }
  if (ZERO) {
    for (var e = 4u * i; e < min(4u * i + 4u, params.n); e++) {
      table[e] = 0.0;
    }
    return;
  }
  let D = params.d;
  let j = params.u0 + i / params.groups;
  let c0 = (i % params.groups) * 4u;
  let nc = min(4u, D - c0);
  var acc = vec4<f32>(0.0);
  for (var p = offsets[j]; p < offsets[j + 1u]; p++) {
    let b = pos[p] * D + c0;
    for (var k = 0u; k < nc; k++) {
      acc[k] += g[b + k];
    }
  }
  let o = (u32(uniq[j]) - params.row0) * D + c0;
  for (var k = 0u; k < nc; k++) {
    table[o + k] = acc[k];
  }
}
