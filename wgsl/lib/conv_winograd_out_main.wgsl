// The body of conv_winograd_out.wgsl (one output per store, any W) and conv_winograd_out_vec2.wgsl
// (two: W even, so a tile row's pairs never straddle a row or a tile). The including shader
// declares `const V: u32` (outputs per store), the `res` and `out` bindings as arrays of f32 or
// vec2<f32> and `fn out_vals(bv, yr, j)` (bv + yr[j .. j + V - 1] as their element type).

// #include "lib/grid.wgsl"
// #include "lib/winograd.wgsl"

override WG: u32 = 64;
override ACT: u32 = 0;
override TILE: u32 = 2;
override ALPHA: u32 = TILE + 2u;

struct Params {
  cout: u32,
  h: u32,
  w: u32,
  t: u32,
  th: u32,
  tw: u32,
  p0: u32,
  pc: u32,
  pp: u32,
  has_bias: u32,
  has_res: u32,
}

@group(0) @binding(0) var<storage, read> m: array<f32>;
@group(0) @binding(1) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

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
  // r = A^T M (rows: m x alpha), then Y = r A (columns).
  var mv: array<WVec, 8>;
  for (var i = 0u; i < ALPHA; i++) {
    for (var j = 0u; j < ALPHA; j++) {
      mv[i][j] = m[(ALPHA * i + j) * plane + at];
    }
  }
  var r: array<WVec, 6>;
  for (var j = 0u; j < ALPHA; j++) {
    let c = wino_at_vec(WVec(mv[0][j], mv[1][j], mv[2][j], mv[3][j], mv[4][j], mv[5][j], mv[6][j], mv[7][j]));
    for (var i = 0u; i < TILE; i++) {
      r[i][j] = c[i];
    }
  }
  var bv = 0.0;
  if (params.has_bias != 0u) {
    bv = bias[co];
  }
  let tile = wino_tile(params.p0 + q, params.th, params.tw);
  let ty = tile.y;
  let tx = tile.z;
  // Image tile.x is frame tile.x % t of batch row tile.x / t.
  let base = ((tile.x / params.t * cout + co) * params.t + tile.x % params.t) * params.h * params.w;
  for (var i = 0u; i < TILE; i++) {
    let y = TILE * ty + i;
    let yr = wino_at_vec(r[i]);
    for (var j = 0u; j < TILE; j += V) {
      let xx = TILE * tx + j;
      if (y < params.h && xx < params.w) {
        var val = out_vals(bv, yr, j);
        if (ACT == 1u) {
          val = val / (1.0 + exp(-val));
        }
        let o = (base + y * params.w + xx) / V;
        if (params.has_res != 0u) {
          val += res[o];
        }
        out[o] = val;
      }
    }
  }
}
