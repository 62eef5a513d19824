// matmul_packed: out[z, m, n_off + n] = act(sum_k A[z, m, k] * B[z, k, n] + bias[n_off + n]) + res[z, m, n_off + n]
// with A read as A^T (made by pack_transposed) and B from a packed copy (pack_blocks: a
// PackedMatmulWeight, or packed per call); matmul_gemv.wgsl is its M = 1 product and
// matmul_packed_sg.wgsl the faster GEMM for adapters with subgroups (B loaded once per subgroup, not once per lane).
//
// The micro-kernel of conv3d_causal applied to GEMM: a workgroup owns RN columns of B (one packed
// block), so every B load has a lane-uniform address (one load per SIMD row on GPUs; lavapipe
// (Mesa 25.0) still runs each load in a loop as a branchy lane-by-lane loop, which is what the
// subgroup kernel saves); lanes own rows (lane l, slot j -> row m0 + j WG + l), RM per-lane A
// loads per k for RM x RN FMAs.
// A is read transposed so the 8 lanes of a SIMD row load 32 contiguous bytes: rows of a plain
// [M, K] A are K floats apart (4 KiB at K = 1024), which puts every lane's load in the same L1
// set. RM x RN scalar accumulators per invocation (vec4 accumulators spill); RM, RN are override
// constants so the compiler unrolls the block (RM = 16, 256 accumulators, is not unrolled).
// Measured and dropped: 4 k-steps per trip from a [K/4, M] vec4 A (fewer per-lane loads but a
// 512-FMA body). Figures: bench/README.md, Design measurements: matmul.
// Rows past M are clamped on load and skipped on store; packed columns past N repeat column N-1
// and are skipped on store. Per output, the sum runs over k in order (fma), as in matmul.wgsl.
//
// a:    array<f32>        A^T [batch_a][K][MP], MP = M rounded up to a multiple of 4 (rows past M
//                         are zero; matmul_packed_sg reads it as vec4s), batch stride a_batch (0 = broadcast)
// b:    array<vec4<f32>>  packed B [batch_b][ceil(N / RN)][K][RN]: B(k, blk RN + i) at
//                         (blk K + k) RN + i (batch stride b_batch in vec4s); a chunked launch
//                         binds blocks from column n_off = blk0 RN on
// bias: array<f32>        [out_cols]              read only when has_bias != 0
// res:  array<f32>        [batch, M, out_cols]    read only when has_res != 0
// out:  array<f32>        [batch, M, out_cols]
// ACT: 0 none, 1 silu, 2 relu, 3 gelu (lib/act.wgsl).
// Dispatch: (ceil(N / (CB RN)), ceil(M / (WG RM)), batch) workgroups of WG invocations (column blocks
// fastest).

override WG: u32 = 32;
override RM: u32 = 8;   // rows per invocation, <= 16
override RN: u32 = 16;  // columns per workgroup (packed block width), a multiple of 4, <= 32
override ACT: u32 = 0;
override CB: u32 = 1;   // packed blocks per workgroup (2 for few rows: RM x 2 RN accumulators)
override R4: u32 = RN / 4u;

// #include "lib/matmul_params.wgsl"

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read> res: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<uniform> params: Params;

// #include "lib/tile_fma.wgsl"
// #include "lib/matmul_tile.wgsl"

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let M = params.m;
  let N = params.n;
  let K = params.k;
  let MP = (M + 3u) / 4u * 4u;
  let m0 = wid.y * WG * RM + lid;
  var ra: array<u32, 16>;  // A(row j, k) = a[ra[j] + k MP]
  for (var j = 0u; j < RM; j++) {
    ra[j] = wid.z * params.a_batch + min(m0 + j * WG, M - 1u);
  }
  let nblk = (N + RN - 1u) / RN;
  var wb: array<u32, 2>;  // block c of this workgroup starts at b[wb[c]] (past the last: re-read it)
  for (var c = 0u; c < CB; c++) {
    wb[c] = wid.z * params.b_batch + min(wid.x * CB + c, nblk - 1u) * K * R4;
  }
  var acc: array<f32, 256>;  // acc[(c RN + i) RM + j] = out(row j, column c RN + i)
  for (var e = 0u; e < RM * RN * CB; e++) {
    acc[e] = 0.0;
  }

  for (var k = 0u; k < K; k++) {
    var v: array<f32, 16>;
    for (var j = 0u; j < RM; j++) {
      v[j] = a[ra[j] + k * MP];
    }
    for (var c = 0u; c < CB; c++) {
      let wk = wb[c] + k * R4;
      for (var i4 = 0u; i4 < R4; i4++) {
        tile_fma(&acc, c, i4, b[wk + i4], v);
      }
    }
  }

  tile_store(&acc, wid.z, wid.x * RN * CB, m0, WG);
}
