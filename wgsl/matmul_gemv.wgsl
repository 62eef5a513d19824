// matmul_gemv: out[n_off + n] = act(sum_k x[k] * w[n, k] + bias[n_off + n]) + res[n_off + n]
// The M = 1 case of linear (a transformer decode step): w in nn.Linear layout [N, K], so every
// invocation streams 4 weight rows as vec4s (lavapipe loads per lane in a loop over the 8 lanes,
// so one vec4 costs about one scalar) while x is the same for all lanes (uniform scalar loads).
// Needs K % 4 == 0 (matmul sends other shapes to the tiled kernel). Memory-bound:
// the weight is read once, and a [N_total, K] weight over maxStorageBufferBindingSize is bound
// as row chunks (one launch per chunk, n_off = first row of the chunk).
//
// x:    array<f32>  [K]
// w:    array<vec4<f32>>  [N, K/4]   rows n_off .. n_off + N of the full weight
// bias: array<f32>  [N_total]  read only when has_bias != 0
// res:  array<f32>  [N_total]  read only when has_res != 0
// out:  array<f32>  [N_total]
// ACT: 0 none, 1 silu, 2 relu, 3 gelu (lib/act.wgsl).
// Dispatch: ceil(N / (4 WG)) workgroups, folded into (x, y); invocation t owns rows 4t .. 4t+3.

// #include "lib/grid.wgsl"
// #include "lib/act.wgsl"

override WG: u32 = 64;
override ACT: u32 = 0;

struct Params {
  n: u32,
  k: u32,
  n_off: u32,
  has_bias: u32,
  has_res: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read> res: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<uniform> params: Params;

// #include "lib/matmul_store4.wgsl"

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let N = params.n;
  let K = params.k;
  let row0 = (flat_workgroup(wid, nwg) * WG + lid) * 4u;
  if (row0 >= N) {
    return;
  }
  let k4 = K / 4u;
  var base: array<u32, 4>;
  for (var r = 0u; r < 4u; r++) {
    base[r] = min(row0 + r, N - 1u) * k4;
  }
  var acc = array<vec4<f32>, 4>();
  for (var kq = 0u; kq < k4; kq++) {
    let k = kq * 4u;
    let xv = vec4(x[k], x[k + 1u], x[k + 2u], x[k + 3u]);
    for (var r = 0u; r < 4u; r++) {
      acc[r] = fma(xv, w[base[r] + kq], acc[r]);
    }
  }
  var sums = vec4(0.0);
  for (var r = 0u; r < 4u; r++) {
    sums[r] = acc[r].x + acc[r].y + acc[r].z + acc[r].w;
  }
  // Weight rows are output columns.
  store4(params.n_off + row0, row0, sums);
}
