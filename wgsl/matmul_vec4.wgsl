// matmul_vec4: out[z, m, n_off + n] = act(sum_k A[z, m, k] * B[z, k, n] + bias[n_off + n]) + res[z, m, n_off + n]
// The fast path of matmul, laid out for lavapipe's SIMD lanes: a workgroup owns 4 rows, so every
// A element is the same for all its lanes (a uniform load: one scalar load and a broadcast), and
// each lane owns 4 contiguous columns of B, fetched with one vec4 load per step (lavapipe turns a
// per-lane load into a loop over the 8 lanes, so one vec4 costs about what one scalar does). Each B
// value feeds 4 rows; 16 scalar accumulators per lane. Needs N % 4 == 0 (B rows as vec4), or with
// TRANS_B K % 4 == 0 (B^T rows as vec4: each lane reads its 4 columns 4 k-steps at a time).
// Rows past M are clamped on load and skipped on store; columns past N are skipped on store.
//
// a:    array<f32>        TRANS_A ? [batch_a, K, M] : [batch_a, M, K]   (batch stride a_batch; 0 = broadcast)
// b:    array<vec4<f32>>  TRANS_B ? [batch_b, N, K/4] : [batch_b, K, N/4]   (batch stride b_batch in vec4s)
//                         a chunked launch binds rows n_off .. n_off + N of a [N_total, K] B^T
// bias: array<f32>        [out_cols]              read only when has_bias != 0
// res:  array<f32>        [batch, M, out_cols]    read only when has_res != 0
// out:  array<f32>        [batch, M, out_cols]
// ACT: 0 none, 1 silu, 2 relu, 3 gelu (lib/act.wgsl).
// Dispatch: (ceil(M / 4), ceil(N / (4 WG)), batch) workgroups of WG invocations. Row groups run
// fastest, so consecutive workgroups reuse one [K, 4 WG] panel of B from cache.

// #include "lib/act.wgsl"

override WG: u32 = 16;
override TRANS_A: bool = false;
override TRANS_B: bool = false;
override ACT: u32 = 0;

// #include "lib/matmul_params.wgsl"

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read> res: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<uniform> params: Params;

// #include "lib/matmul_store4.wgsl"

// A(m, k): uniform across the workgroup here because m and k are.
// #include "lib/matmul_load_a.wgsl"

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let M = params.m;
  let N = params.n;
  let K = params.k;
  let row0 = wid.x * 4u;
  let col0 = (wid.y * WG + lid) * 4u;
  let abase = wid.z * params.a_batch;
  let bbase = wid.z * params.b_batch;
  var rows: array<u32, 4>;
  for (var i = 0u; i < 4u; i++) {
    rows[i] = min(row0 + i, M - 1u);
  }
  var acc: array<vec4<f32>, 4>; // acc[i][j] = out(rows[i], col0 + j)

  if (TRANS_B) {
    // b[n * K/4 + k/4] = B^T(n, k .. k+3); lanes past N re-read the last column.
    let k4 = K / 4u;
    var cb: array<u32, 4>;
    for (var j = 0u; j < 4u; j++) {
      cb[j] = bbase + min(col0 + j, N - 1u) * k4;
    }
    for (var kq = 0u; kq < k4; kq++) {
      let w0 = b[cb[0] + kq];
      let w1 = b[cb[1] + kq];
      let w2 = b[cb[2] + kq];
      let w3 = b[cb[3] + kq];
      for (var kk = 0u; kk < 4u; kk++) {
        let bv = vec4(w0[kk], w1[kk], w2[kk], w3[kk]);
        for (var i = 0u; i < 4u; i++) {
          acc[i] = fma(vec4(ld_a(abase, rows[i], kq * 4u + kk)), bv, acc[i]);
        }
      }
    }
  } else {
    let n4 = N / 4u;
    let cb = bbase + min(col0 / 4u, n4 - 1u);
    for (var k = 0u; k < K; k++) {
      let bv = b[cb + k * n4];
      for (var i = 0u; i < 4u; i++) {
        acc[i] = fma(vec4(ld_a(abase, rows[i], k)), bv, acc[i]);
      }
    }
  }

  if (col0 >= N) {
    return;
  }
  // Bounded at run time, so not unrolled: four copies of the lane-by-lane epilogue loads and
  // stores doubled this pipeline's compile on lavapipe.
  for (var r = row0; r < min(row0 + 4u, M); r++) {
    store4((wid.z * M + r) * params.out_cols + params.n_off + col0, col0, acc[r - row0]);
  }
}
