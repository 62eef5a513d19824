// conv_winograd_in: the input transform of a Winograd F(m x m, 3x3) convolution (3x3, stride 1,
// padding 1; m = TILE, 2 or 4, alpha = m + 2): each alpha x alpha input patch d at rows m ty - 1 ..,
// columns m tx - 1 .. (zeros outside the image) becomes V = B^T d B (lib/winograd.wgsl), for tiles
// p0 .. p0 + pc - 1 of the flat tile index p = (n th + ty) tw + tx, image n = b T + t (a chunk of them).
// NORM: the conv's input is GroupNorm(x) (then SiLU if SILU), applied to each point read, as
// group_norm.wgsl computes it, so the normalised activation is never written out; padding stays 0.
//
// x: array<f32>  [B][Cin][T][H][W] (T = 1: NCHW)
// stats, gamma, beta (NORM): group_norm_stats' (count, mean, M2) per (b, group), the affine [Cin]
// v: array<f32>  [alpha^2][Cin][pp]: element xi = alpha i + j of V for channel ci, tile p0 + q at q
//                (pp = pc rounded up to 4; the GEMM reads it as A^T with M = pp; rows q >= pc zero)
// Dispatch: ceil(Cin pp / WG) workgroups, one invocation per (channel, tile), folded into (x, y).

// #include "lib/grid.wgsl"
// #include "lib/winograd.wgsl"

override WG: u32 = 64;
override TILE: u32 = 2;
override ALPHA: u32 = TILE + 2u;
override NORM: bool = false;
override SILU: bool = false;

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
  var d: array<array<f32, 6>, 6>;
  if (q < params.pc) {
    let tile = wino_tile(params.p0 + q, params.th, params.tw);
    let ty = tile.y;
    let tx = tile.z;
    // Image tile.x is frame tile.x % t of batch row tile.x / t.
    let b = tile.x / params.t;
    let base = ((b * params.cin + ci) * params.t + tile.x % params.t) * params.h * params.w;
    var mean = 0.0;
    var a = 1.0;
    var shift = 0.0;
    if (NORM) {
      let si = 3u * (b * (params.cin / params.cpg) + ci / params.cpg);
      mean = stats[si + 1u];
      a = inverseSqrt(stats[si + 2u] / stats[si] + params.eps) * gamma[ci];
      shift = beta[ci];
    }
    for (var i = 0u; i < ALPHA; i++) {
      let y = i32(TILE * ty + i) - 1;
      for (var j = 0u; j < ALPHA; j++) {
        let xx = i32(TILE * tx + j) - 1;
        var val = 0.0;
        if (y >= 0 && y < i32(params.h) && xx >= 0 && xx < i32(params.w)) {
          val = x[base + u32(y) * params.w + u32(xx)];
          if (NORM) {
            // (x - mean) first, as group_norm.wgsl (no cancellation when |mean| >> std).
            val = (val - mean) * a + shift;
            if (SILU) {
              val = val / (1.0 + exp(-val));
            }
          }
        }
        d[i][j] = val;
      }
    }
  }
  // t = B^T d (rows), then V = t B (columns).
  var t: array<array<f32, 6>, 6>;
  for (var i = 0u; i < ALPHA; i++) {
    for (var j = 0u; j < ALPHA; j++) {
      var s = 0.0;
      for (var k = 0u; k < ALPHA; k++) {
        s += wino_bt(i, k) * d[k][j];
      }
      t[i][j] = s;
    }
  }
  let plane = params.cin * pp;
  let o = ci * pp + q;
  for (var i = 0u; i < ALPHA; i++) {
    for (var j = 0u; j < ALPHA; j++) {
      var s = 0.0;
      for (var k = 0u; k < ALPHA; k++) {
        s += t[i][k] * wino_bt(j, k);
      }
      v[(ALPHA * i + j) * plane + o] = s;
    }
  }
}
