// matmul: out[z, m, n_off + n] = act(sum_k A[z, m, k] * B[z, k, n] + bias[n_off + n]) + res[z, m, n_off + n]
//
// The any-shape kernel (matmul_vec4 is the fast path when B's rows allow vec4 loads).
// Register-blocked: each invocation owns a 4x4 block of outputs held in 16 scalar f32
// accumulators (on lavapipe an invocation is one SIMD lane). Per step of 4 along K it loads a 4x4
// block of A and of B (32 loads for 64 FMAs) straight from storage: lavapipe runs a per-lane load
// from workgroup memory as the same loop over the 8 lanes as one from storage, so staging tiles
// in workgroup memory only added stores and barriers and ran slower (figures: bench/README.md,
// Design measurements: matmul). Out-of-range rows and columns are clamped on load (the loop has
// no branches) and skipped on store. K % 4 leftovers run a scalar tail.
//
// a:    array<f32>  TRANS_A ? [batch_a, K, M] : [batch_a, M, K]   (batch stride a_batch; 0 = broadcast)
// b:    array<f32>  TRANS_B ? [batch_b, N, K] : [batch_b, K, N]   (batch stride b_batch; 0 = broadcast)
//                   N is this launch's column count; a chunked launch binds rows n_off.. of a [N_total, K] B
// bias: array<f32>  [out_cols]              read only when has_bias != 0
// res:  array<f32>  [batch, M, out_cols]    read only when has_res != 0
// out:  array<f32>  [batch, M, out_cols]
// ACT: 0 none, 1 silu, 2 relu, 3 gelu (lib/act.wgsl).
// Dispatch: (ceil(N / (4 WGX)), ceil(M / (4 WGY)), batch) workgroups of WGX x WGY invocations.

// #include "lib/act.wgsl"

override WGX: u32 = 16;
override WGY: u32 = 4;
override TRANS_A: bool = false;
override TRANS_B: bool = false;
override ACT: u32 = 0;

// #include "lib/matmul_params.wgsl"

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read> res: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<uniform> params: Params;

// #include "lib/matmul_store4.wgsl"

// #include "lib/matmul_load_a.wgsl"

fn ld_b(base: u32, k: u32, n: u32) -> f32 {
  if (TRANS_B) {
    return b[base + n * params.k + k];
  }
  return b[base + k * params.n + n];
}

@compute @workgroup_size(WGX, WGY)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let M = params.m;
  let N = params.n;
  let K = params.k;
  let row0 = (wid.y * WGY + lid.y) * 4u;
  let col0 = (wid.x * WGX + lid.x) * 4u;
  if (row0 >= M || col0 >= N) {
    return;
  }
  let abase = wid.z * params.a_batch;
  let bbase = wid.z * params.b_batch;
  var rows: array<u32, 4>;
  var cols: array<u32, 4>;
  for (var i = 0u; i < 4u; i++) {
    rows[i] = min(row0 + i, M - 1u);
    cols[i] = min(col0 + i, N - 1u);
  }

  var acc: array<f32, 16>;
  let k4 = K & ~3u;
  for (var k = 0u; k < k4; k += 4u) {
    var av: array<vec4<f32>, 4>; // av[i][kk] = A(rows[i], k + kk)
    var bv: array<vec4<f32>, 4>; // bv[kk][j] = B(k + kk, cols[j])
    for (var i = 0u; i < 4u; i++) {
      av[i] = vec4(ld_a(abase, rows[i], k), ld_a(abase, rows[i], k + 1u), ld_a(abase, rows[i], k + 2u), ld_a(abase, rows[i], k + 3u));
      bv[i] = vec4(ld_b(bbase, k + i, cols[0]), ld_b(bbase, k + i, cols[1]), ld_b(bbase, k + i, cols[2]), ld_b(bbase, k + i, cols[3]));
    }
    for (var i = 0u; i < 4u; i++) {
      for (var kk = 0u; kk < 4u; kk++) {
        for (var j = 0u; j < 4u; j++) {
          acc[i * 4u + j] = fma(av[i][kk], bv[kk][j], acc[i * 4u + j]);
        }
      }
    }
  }
  for (var k = k4; k < K; k++) {
    for (var i = 0u; i < 4u; i++) {
      let x = ld_a(abase, rows[i], k);
      for (var j = 0u; j < 4u; j++) {
        acc[i * 4u + j] = fma(x, ld_b(bbase, k, cols[j]), acc[i * 4u + j]);
      }
    }
  }

  for (var i = 0u; i < 4u; i++) {
    let r = row0 + i;
    if (r >= M) {
      break;
    }
    let o = (wid.z * M + r) * params.out_cols + params.n_off + col0;
    store4(o, col0, vec4(acc[i * 4u], acc[i * 4u + 1u], acc[i * 4u + 2u], acc[i * 4u + 3u]));
  }
}
