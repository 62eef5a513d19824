// conv_winograd_in: the input transform of a Winograd F(m x m, 3x3) convolution (3x3, stride 1,
// padding 1; m = TILE, 2 or 4, alpha = m + 2): each alpha x alpha input patch d at rows m ty - 1 ..,
// columns m tx - 1 .. (zeros outside the image) becomes V = B^T d B (lib/winograd.wgsl), for tiles
// p0 .. p0 + pc - 1 of the flat tile index p = (n th + ty) tw + tx, image n = b T + t (a chunk of them).
// NORM: the conv's input is GroupNorm(x) (then SiLU if SILU), applied to each point read, as
// group_norm.wgsl computes it, so the normalised activation is never written out; padding stays 0.
// Each invocation transforms 4 consecutive tiles of one channel and stores V as vec4s (on lavapipe
// every storage access is a loop over the SIMD lanes: 4x fewer stores). ROW4 (W % 16 == 0, so the
// 4 tiles share an input row strip of 4 m + 2 columns starting 4-aligned) reads the strip as vec4s.
//
// x, x4: the input [B][Cin][T][H][W] (T = 1: NCHW), bound twice: as f32s and (ROW4) as vec4s
// v:     array<vec4<f32>>  [alpha^2][Cin][pp / 4]: element xi = alpha i + j of V for channel ci,
//        tile p0 + q at q (pp = pc rounded up to 4; the GEMM reads it as A^T with M = pp; rows
//        q >= pc zero)
// stats, gamma, beta (NORM): group_norm_stats' (count, mean, M2) per (b, group), the affine [Cin]
// Dispatch: ceil(Cin pp / (4 WG)) workgroups, one invocation per (channel, 4 tiles), folded into (x, y).

// #include "lib/grid.wgsl"
// #include "lib/winograd.wgsl"

override WG: u32 = 64;
override TILE: u32 = 2;
override ALPHA: u32 = TILE + 2u;
override NORM: bool = false;
override SILU: bool = false;
override ROW4: bool = false;

struct Params {
  cin: u32,
  h: u32,
  w: u32,
  t: u32,
  th: u32,
  tw: u32,
  p0: u32,
  pc: u32,
  pp: u32,
  cpg: u32,
  eps: f32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> v: array<vec4<f32>>;
@group(0) @binding(2) var<uniform> params: Params;
@group(0) @binding(3) var<storage, read> stats: array<f32>;
@group(0) @binding(4) var<storage, read> gamma: array<f32>;
@group(0) @binding(5) var<storage, read> beta: array<f32>;
@group(0) @binding(6) var<storage, read> x4: array<vec4<f32>>;

alias Patch = array<array<f32, 6>, 6>;

// The input norm of batch row b, channel ci: (mean, scale, shift).
fn norm_of(b: u32, ci: u32) -> vec3<f32> {
  if (!NORM) {
    return vec3(0.0, 1.0, 0.0);
  }
  let si = 3u * (b * (params.cin / params.cpg) + ci / params.cpg);
  let a = inverseSqrt(stats[si + 2u] / stats[si] + params.eps) * gamma[ci];
  return vec3(stats[si + 1u], a, beta[ci]);
}

// One input point as the conv sees it.
fn point(val: f32, nm: vec3<f32>) -> f32 {
  if (!NORM) {
    return val;
  }
  // (x - mean) first, as group_norm.wgsl (no cancellation when |mean| >> std).
  let y = (val - nm.x) * nm.y + nm.z;
  if (SILU) {
    return y / (1.0 + exp(-y));
  }
  return y;
}

// V = B^T d B: t = B^T d (columns), then the rows of t times B.
fn transform(d: Patch) -> Patch {
  var t: Patch;
  for (var j = 0u; j < ALPHA; j++) {
    let c = wino_bt_vec(array<f32, 6>(d[0][j], d[1][j], d[2][j], d[3][j], d[4][j], d[5][j]));
    for (var i = 0u; i < ALPHA; i++) {
      t[i][j] = c[i];
    }
  }
  var o: Patch;
  for (var i = 0u; i < ALPHA; i++) {
    o[i] = wino_bt_vec(t[i]);
  }
  return o;
}

// Element 0 of channel ci's plane of image n (frame n % t of batch row n / t).
fn plane_base(n: u32, ci: u32) -> u32 {
  return ((n / params.t * params.cin + ci) * params.t + n % params.t) * params.h * params.w;
}

// The patch of tile p (scalar loads).
fn tile_patch(p: u32, ci: u32) -> Patch {
  let tile = wino_tile(p, params.th, params.tw);
  let nm = norm_of(tile.x / params.t, ci);
  let base = plane_base(tile.x, ci);
  var d: Patch;
  for (var i = 0u; i < ALPHA; i++) {
    let y = i32(TILE * tile.y + i) - 1;
    for (var j = 0u; j < ALPHA; j++) {
      let xx = i32(TILE * tile.z + j) - 1;
      var val = 0.0;
      if (y >= 0 && y < i32(params.h) && xx >= 0 && xx < i32(params.w)) {
        val = point(x[base + u32(y) * params.w + u32(xx)], nm);
      }
      d[i][j] = val;
    }
  }
  return d;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let e = flat_workgroup(wid, nwg) * WG + lid;
  let pp4 = params.pp / 4u;
  if (e >= params.cin * pp4) {
    return;
  }
  let ci = e / pp4;
  let q0 = (e % pp4) * 4u;
  var vs: array<Patch, 4>;
  if (ROW4) {
    // pc is a multiple of 4 here (tw is), so the 4 tiles are all real or all padding.
    if (q0 < params.pc) {
      let tile = wino_tile(params.p0 + q0, params.th, params.tw);
      let nm = norm_of(tile.x / params.t, ci);
      let base = plane_base(tile.x, ci);
      let c0 = TILE * tile.z;
      // Columns c0 - 1 .. c0 + 4 TILE of rows TILE ty - 1 .. : strip[i][1 + c] is column c0 + c.
      var strip: array<array<f32, 18>, 6>;
      for (var i = 0u; i < ALPHA; i++) {
        let y = i32(TILE * tile.y + i) - 1;
        if (y >= 0 && y < i32(params.h)) {
          let row = base + u32(y) * params.w;
          strip[i][0] = select(0.0, point(x[row + c0 - 1u], nm), c0 > 0u);
          for (var k = 0u; k < TILE; k++) {
            let q = x4[(row + c0) / 4u + k];
            strip[i][1u + 4u * k] = point(q.x, nm);
            strip[i][2u + 4u * k] = point(q.y, nm);
            strip[i][3u + 4u * k] = point(q.z, nm);
            strip[i][4u + 4u * k] = point(q.w, nm);
          }
          let right = c0 + 4u * TILE;
          strip[i][1u + 4u * TILE] = select(0.0, point(x[min(row + right, row + params.w - 1u)], nm), right < params.w);
        } else {
          for (var j = 0u; j < 2u + 4u * TILE; j++) {
            strip[i][j] = 0.0;
          }
        }
      }
      for (var k = 0u; k < 4u; k++) {
        var d: Patch;
        for (var i = 0u; i < ALPHA; i++) {
          for (var j = 0u; j < ALPHA; j++) {
            d[i][j] = strip[i][TILE * k + j];
          }
        }
        vs[k] = transform(d);
      }
    }
  } else {
    for (var k = 0u; k < 4u; k++) {
      if (q0 + k < params.pc) {
        vs[k] = transform(tile_patch(params.p0 + q0 + k, ci));
      }
    }
  }
  let o = ci * pp4 + q0 / 4u;
  let plane = params.cin * pp4;
  for (var i = 0u; i < ALPHA; i++) {
    for (var j = 0u; j < ALPHA; j++) {
      v[(ALPHA * i + j) * plane + o] = vec4(vs[0][i][j], vs[1][i][j], vs[2][i][j], vs[3][i][j]);
    }
  }
}
