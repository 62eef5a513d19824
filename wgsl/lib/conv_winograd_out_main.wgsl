// The entry point of conv_winograd_out.wgsl and conv_winograd_out_vec2.wgsl: one invocation per
// (tile, channel), its alpha^2 products read one at a time.

// #include "lib/conv_winograd_out_body.wgsl"

override WG: u32 = 64;

@group(0) @binding(0) var<storage, read> m: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let e = flat_workgroup(wid, nwg) * WG + lid;
  let cout = params.cout;
  if (e >= params.pc * cout) {
    return;
  }
  let q = e / cout;
  let co = e % cout;
  let plane = params.pp * cout;
  let at = q * cout + co;
  var mv: array<WVec, 8>;
  for (var i = 0u; i < ALPHA; i++) {
    for (var j = 0u; j < ALPHA; j++) {
      mv[i][j] = m[(ALPHA * i + j) * plane + at];
    }
  }
  store_tile(mv, q, co);
}
