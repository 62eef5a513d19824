// layout_transpose: the layout strided copy (wgsl/layout.wgsl) for permutes whose innermost
// output dim `a` is strided in the source while another dim `b` is contiguous there (e.g. to
// channels last). A batch of 2-D transposes in 4 x 4 register blocks: each invocation loads
// four 16-byte rows along b, transposes them in registers and stores four 16-byte rows along a.
// lavapipe issues one load per lane access, so 16-byte accesses on both sides are what matter
// (a shared-memory tile measured slower there than the scalar path).
//   dst[dst_batch + b * ds_b + a] = src[src_batch + a * ss_a + b]
//   batch offsets from up to 4 outer dims (extents e0..e3, strides ss0..3 / ds0..3).
// Every extent, stride and offset here is in vec4 units except n_a, n_b (elements, % 4 == 0);
// the host only takes this path when all of them are multiples of 4.
//
// src: array<vec4<u32>>  (any 4-byte dtype)
// dst: array<vec4<u32>>
// One invocation per (batch, 4 a, 4 b) block: batch * (n_a / 4) * (n_b / 4) invocations,
// a fastest; ceil(that / WG) workgroups folded into (x, y).

// #include "lib/grid.wgsl"

override WG: u32 = 256;

struct Params {
  n_a: u32,
  n_b: u32,
  ss_a: u32,
  ds_b: u32,
  batch: u32,
  e0: u32, e1: u32, e2: u32, e3: u32,
  ss0: u32, ss1: u32, ss2: u32, ss3: u32,
  ds0: u32, ds1: u32, ds2: u32, ds3: u32,
}

@group(0) @binding(0) var<storage, read> src: array<vec4<u32>>;
@group(0) @binding(1) var<storage, read_write> dst: array<vec4<u32>>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let blocks_a = params.n_a / 4u;
  let blocks = blocks_a * (params.n_b / 4u);
  let g = flat_workgroup(wid, nwg) * WG + lid;
  if (g >= blocks * params.batch) {
    return;
  }
  let blk = g % blocks;
  let a = (blk % blocks_a) * 4u;
  let b4 = blk / blocks_a;
  let e = array<u32, 4>(params.e0, params.e1, params.e2, params.e3);
  let ss = array<u32, 4>(params.ss0, params.ss1, params.ss2, params.ss3);
  let ds = array<u32, 4>(params.ds0, params.ds1, params.ds2, params.ds3);
  var rest = g / blocks;
  var so = 0u;
  var dof = 0u;
  for (var k = 3i; k >= 0i; k--) {
    let c = rest % e[k];
    rest /= e[k];
    so += c * ss[k];
    dof += c * ds[k];
  }
  let s = so + a * params.ss_a + b4;
  let r0 = src[s];
  let r1 = src[s + params.ss_a];
  let r2 = src[s + 2u * params.ss_a];
  let r3 = src[s + 3u * params.ss_a];
  let d = dof + b4 * 4u * params.ds_b + a / 4u;
  dst[d] = vec4<u32>(r0.x, r1.x, r2.x, r3.x);
  dst[d + params.ds_b] = vec4<u32>(r0.y, r1.y, r2.y, r3.y);
  dst[d + 2u * params.ds_b] = vec4<u32>(r0.z, r1.z, r2.z, r3.z);
  dst[d + 3u * params.ds_b] = vec4<u32>(r0.w, r1.w, r2.w, r3.w);
}
