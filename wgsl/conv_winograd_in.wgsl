// conv_winograd_in: the input transform of a Winograd F(m x m, 3x3) convolution (3x3, stride 1,
// padding 1; m = TILE, 2 or 4, alpha = m + 2): each alpha x alpha input patch d at rows m ty - 1 ..,
// columns m tx - 1 .. (zeros outside the image) becomes V = B^T d B (lib/winograd.wgsl), for tiles
// p0 .. p0 + pc - 1 of the flat tile index p = (n th + ty) tw + tx, image n = b T + t (a chunk of them).
// NORM: the conv's input is GroupNorm(x) (then SiLU if SILU), applied to each point read, as
// group_norm.wgsl computes it, so the normalised activation is never written out; padding stays 0.
// VEC4 (F(4x4), W % 4 == 0): a patch row is read as the middle vec4 of its 6 columns plus one
// value on each side (on lavapipe every storage access loops over the SIMD lanes: 3 loads, not 6).
//
// x, x4: the input [B][Cin][T][H][W] (T = 1: NCHW), bound twice: as f32s and (VEC4) as vec4s
// v:     array<f32>  [alpha^2][Cin][pp]: element xi = alpha i + j of V for channel ci, tile p0 + q
//        at q (pp = pc rounded up to 4; the GEMM reads it as A^T with M = pp; rows q >= pc zero)
// stats, gamma, beta (NORM): group_norm_stats' (count, mean, M2) per (b, group), the affine [Cin]
// Dispatch: ceil(Cin pp / WG) workgroups, one invocation per (channel, tile), folded into (x, y).

// #include "lib/grid.wgsl"
// #include "lib/winograd.wgsl"

override WG: u32 = 64;
override TILE: u32 = 2;
override ALPHA: u32 = TILE + 2u;
override NORM: bool = false;
override SILU: bool = false;
override VEC4: bool = false;

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
@group(0) @binding(1) var<storage, read_write> v: array<f32>;
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

// The patch of tile p, F(4x4), W % 4 == 0: columns 4 tx - 1 .. 4 tx + 4 of each row are the last
// value of one vec4, the next vec4 and the first value of the one after.
fn tile_patch4(p: u32, ci: u32) -> Patch {
  let tile = wino_tile(p, params.th, params.tw);
  let nm = norm_of(tile.x / params.t, ci);
  let base = plane_base(tile.x, ci);
  let c0 = 4u * tile.z;
  var d: Patch;
  for (var i = 0u; i < 6u; i++) {
    let y = i32(4u * tile.y + i) - 1;
    if (y >= 0 && y < i32(params.h)) {
      let r4 = (base + u32(y) * params.w + c0) / 4u;
      if (c0 > 0u) {
        d[i][0] = point(x4[r4 - 1u].w, nm);
      }
      let m = x4[r4];
      d[i][1] = point(m.x, nm);
      d[i][2] = point(m.y, nm);
      d[i][3] = point(m.z, nm);
      d[i][4] = point(m.w, nm);
      if (c0 + 4u < params.w) {
        d[i][5] = point(x4[r4 + 1u].x, nm);
      }
    }
  }
  return d;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let e = flat_workgroup(wid, nwg) * WG + lid;
  let pp = params.pp;
  if (e >= params.cin * pp) {
    return;
  }
  let ci = e / pp;
  let q = e % pp;
  var d: Patch;
  if (q < params.pc) {
    if (VEC4) {
      d = tile_patch4(params.p0 + q, ci);
    } else {
      d = tile_patch(params.p0 + q, ci);
    }
  }
  let vt = transform(d);
  let plane = params.cin * pp;
  let o = ci * pp + q;
  for (var i = 0u; i < ALPHA; i++) {
    for (var j = 0u; j < ALPHA; j++) {
      v[(ALPHA * i + j) * plane + o] = vt[i][j];
    }
  }
}
