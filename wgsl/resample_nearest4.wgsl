// resample_nearest4: resample.wgsl's nearest 2x upsampling (MODE 0) where the source width W is a
// multiple of 4: an invocation reads 4 source pixels of a row as one vec4 and writes their 2 x 8
// output values as 4 vec4s (on lavapipe every storage access loops over the SIMD lanes: 5 loops
// for 4 pixels instead of 20).
//
// x:   [planes][H][W] as vec4s (a plane: one frame of one channel), W % 4 == 0
// out: [planes][2H][2W] as vec4s
// Dispatch: one invocation per source vec4 (n / 16 of them, n = the output's elements).

// #include "lib/grid.wgsl"

override WG: u32 = 256;

struct Params {
  n: u32,
  h: u32,
  w: u32,
}

@group(0) @binding(0) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> out: array<vec4<f32>>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flat_workgroup(wid, nwg) * WG + lid;
  if (i >= params.n / 16u) {
    return;
  }
  let w4 = params.w / 4u;
  let row = i / w4;  // (plane, source row)
  let v = x[i];
  let lo = vec4(v.x, v.x, v.y, v.y);
  let hi = vec4(v.z, v.z, v.w, v.w);
  // Output row 2 (row % H) of the plane starts at vec4 (2 row) (2 W / 4) = row W; its vec4s for
  // this source vec4 at 2 (i % w4).
  let o = row * params.w + 2u * (i % w4);
  out[o] = lo;
  out[o + 1u] = hi;
  out[o + params.w / 2u] = lo;
  out[o + params.w / 2u + 1u] = hi;
}
