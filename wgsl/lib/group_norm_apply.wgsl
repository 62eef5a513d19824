// The body of group_norm.wgsl (Elem = f32) and group_norm_vec4.wgsl (Elem = vec4<f32>): the
// including shader declares `alias Elem` and `const PER: u32`, the floats in one.
// #include "lib/grid.wgsl"

override WG: u32 = 256;
override AFFINE: u32 = 1;
override SILU: bool = false;
override LANE_CHUNKS: bool = false;

@group(0) @binding(0) var<storage, read> x: array<Elem>;
@group(0) @binding(1) var<storage, read> stats: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<Elem>;
@group(0) @binding(5) var<uniform> params: Params;

// #include "lib/group_chunk.wgsl"

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let wk = walk_of(flat_workgroup(wid, nwg), lid);
  if (!wk.live) {
    return;
  }
  let ch = chunk_of(wk.c);

  let mean = stats[3u * ch.si + 1u];
  var a = inverseSqrt(stats[3u * ch.si + 2u] / stats[3u * ch.si] + params.eps);
  var shift = 0.0;
  if (AFFINE != 0u) {
    let k = ch.b * params.aff_b + ch.t * params.aff_t + ch.g * params.rows + ch.r;
    a *= select(weight[k], 1.0 + weight[k], AFFINE == 2u);
    shift = bias[k];
  }
  // Elements (f32 or vec4) of the chunk: a vec4 chunk starts at a multiple of 4 and holds whole vec4s.
  let base = ch.base / PER;
  for (var j = wk.first; j < ch.count / PER; j += wk.step) {
    // (x - mean) first: x * a + (shift - mean * a) would cancel when |mean| >> std.
    var y = (x[base + j] - mean) * a + shift;
    if (SILU) {
      y = y / (1.0 + exp(-y));
    }
    out[base + j] = y;
  }
}
