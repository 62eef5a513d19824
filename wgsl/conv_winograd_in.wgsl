// conv_winograd_in: the input transform of a Winograd F(m x m, 3x3) convolution (3x3, stride 1,
// padding 1; m = TILE, 2, 4 or 6, alpha = m + 2): each alpha x alpha input patch d at rows m ty - 1 ..,
// columns m tx - 1 .. (zeros outside the image) becomes V = B^T d B (lib/winograd.wgsl), for tiles
// p0 .. p0 + pc - 1 of the flat tile index p = (n th + ty) tw + tx, image n = b T + t (a chunk of them).
// NORM: the conv's input is GroupNorm(x) (then SiLU if SILU), applied to each point read, as
// group_norm.wgsl computes it, so the normalised activation is never written out; padding stays 0.
// VEC4 (F(4x4) or F(6x6), W % 4 == 0): a patch row is read as the aligned vec4 inside it and
// ALPHA - 4 scalars (tile_patch_vec4).
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

alias Patch = array<WVec, 8>;

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
    let c = wino_bt_vec(WVec(d[0][j], d[1][j], d[2][j], d[3][j], d[4][j], d[5][j], d[6][j], d[7][j]));
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

// The patch of tile p, W % 4 == 0. Each patch row (columns c0 - 1 .. c0 + ALPHA - 2, c0 = TILE tx)
// is the aligned vec4 inside it (columns c0 .. c0 + 3; c0 + 2 .. c0 + 5 for odd F(6x6) tiles) and
// the other ALPHA - 4 values as scalars: ALPHA loaded floats a row, not 3 vec4s' 12 (on lavapipe
// every storage access loops over the SIMD lanes, per component). Loads past the image's edge
// read a clamped column; those points are padding (0) below.
fn tile_patch_vec4(p: u32, ci: u32) -> Patch {
  let tile = wino_tile(p, params.th, params.tw);
  let nm = norm_of(tile.x / params.t, ci);
  let base = plane_base(tile.x, ci);
  let c0 = TILE * tile.z;
  let odd = TILE == 6u && (tile.z & 1u) == 1u;
  let q4 = min((c0 + select(0u, 2u, odd)) / 4u, params.w / 4u - 1u);
  // Patch columns of the scalars.
  let sj = select(vec4(0u, 5u, 6u, 7u), vec4(0u, 1u, 2u, 7u), odd);
  var d: Patch;
  for (var i = 0u; i < ALPHA; i++) {
    let y = i32(TILE * tile.y + i) - 1;
    if (y >= 0 && y < i32(params.h)) {
      let row = base + u32(y) * params.w;
      let q = x4[row / 4u + q4];
      var s = vec4(0.0);
      for (var k = 0u; k < ALPHA - 4u; k++) {
        s[k] = x[row + u32(clamp(i32(c0 + sj[k]) - 1, 0, i32(params.w) - 1))];
      }
      var v: WVec;
      if (odd) {
        v = WVec(s.x, s.y, s.z, q.x, q.y, q.z, q.w, s.w);
      } else {
        v = WVec(s.x, q.x, q.y, q.z, q.w, s.y, s.z, s.w);
      }
      // Padding stays 0 (not point(0)).
      for (var j = 0u; j < ALPHA; j++) {
        let xx = i32(c0 + j) - 1;
        if (xx >= 0 && xx < i32(params.w)) {
          d[i][j] = point(v[j], nm);
        }
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
      d = tile_patch_vec4(params.p0 + q, ci);
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
