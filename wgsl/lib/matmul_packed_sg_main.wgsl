// The body of matmul_packed_sg.wgsl and matmul_packed_sg_f16.wgsl; B comes from the including
// shader's b4() (lib/packed_b_f32.wgsl, lib/packed_b_f16.wgsl).
// #include "lib/matmul_params.wgsl"

override WG: u32 = 32;
override ACT: u32 = 0;
override PLAIN_B: bool = false;
// FEW > 0 (M <= 4 FEW <= 32, packed B): the few-rows tile, below.
override FEW: u32 = 0u;
// The few-rows tile of one batch with A^T in au0..au3 (ctx.stageUniform: 64 KiB windows of
// 4096 / M4 k-rows each) instead of a: on lavapipe a uniform load is a per-lane gather without the
// storage path's bounds branches (bench/README.md). Unread (bound, not used) otherwise.
override A_UNIFORM: bool = false;
const RM = 4u;  // rows per invocation
const CB = 2u;  // packed 16-column blocks per workgroup
const RN = 16u;
const R4 = 4u;  // vec4s per packed row

@group(0) @binding(0) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read> res: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> out: array<vec4<f32>>;
@group(0) @binding(5) var<uniform> params: Params;
@group(0) @binding(8) var<uniform> au0: array<vec4<f32>, 4096>;
@group(0) @binding(9) var<uniform> au1: array<vec4<f32>, 4096>;
@group(0) @binding(10) var<uniform> au2: array<vec4<f32>, 4096>;
@group(0) @binding(11) var<uniform> au3: array<vec4<f32>, 4096>;

// #include "lib/tile_step_sg.wgsl"
// #include "lib/act.wgsl"

// Bias of output columns n_off + col + 0..3 (zero without one), loaded once per column group:
// each load loops over the SIMD lanes on lavapipe.
fn bias4(col: u32) -> vec4<f32> {
  let c = params.n_off + col;
  if (params.has_bias == 0u) {
    return vec4(0.0);
  }
  return vec4(bias[c], bias[c + 1u], bias[c + 2u], bias[c + 3u]);
}

// out[z, r, n_off + col + 0..3] = act(y + b) + res, col % 4 == 0 (out_cols % 4 == 0: a row's
// 4 columns are one vec4). One vec4 store instead of 4 scalar ones: on lavapipe each store loops
// over the SIMD lanes, and the scalar epilogue was 12-17% of a K = 128..256 GEMM (bench/README.md).
fn store_row4(y: vec4<f32>, b: vec4<f32>, z: u32, r: u32, col: u32) {
  var v = act4(y + b, ACT);
  let o = ((z * params.m + r) * params.out_cols + params.n_off + col) / 4u;
  if (params.has_res != 0u) {
    v += res[o];
  }
  out[o] = v;
}

// Lane L's vec4 of packed k-row 0 in 32-column slab `slab` of batch z: columns 4 L .. 4 L + 3 of
// the slab (block L / 4, slot L % 4); k-row k is R4 k further.
fn lane_b(z: u32, slab: u32, lane: u32, nblk: u32) -> u32 {
  return z * params.b_batch + min(slab * CB + lane / 4u, nblk - 1u) * params.k * R4 + lane % 4u;
}

// The few-rows tile: with M <= 32 the 4-row tile leaves lanes idle (M = 19: 5 of 8 lanes hold
// distinct rows, the rest repeat the last), so here each lane owns 4 columns (its own vec4 of each
// packed k-row: no B spread) and all 4 FEW rows, A^T's FEW vec4s of each k spread from lanes
// 0 .. FEW - 1. Each 8 lanes take one 32-column slab; the same fmas in the same order.
// One k-step of the few-rows tile: `am` is lane j's 4 rows of A^T's k-row (j < FEW), w this
// lane's 4 columns of B's.
fn few_step(acc: ptr<function, array<vec4<f32>, 32>>, w: vec4<f32>, am: vec4<f32>) {
  let av = spread8(am);
  for (var j = 0u; j < FEW; j++) {
    let a4 = av[j];
    (*acc)[4u * j] = fma(vec4(a4.x), w, (*acc)[4u * j]);
    (*acc)[4u * j + 1u] = fma(vec4(a4.y), w, (*acc)[4u * j + 1u]);
    (*acc)[4u * j + 2u] = fma(vec4(a4.z), w, (*acc)[4u * j + 2u]);
    (*acc)[4u * j + 3u] = fma(vec4(a4.w), w, (*acc)[4u * j + 3u]);
  }
}

fn few_rows(wid: vec3<u32>, lid: u32, lane: u32, za: u32, M4: u32, nblk: u32) {
  let slab = wid.x * (WG / 8u) + lid / 8u;
  let lb = lane_b(wid.z, slab, lane, nblk);
  let ga = min(lane, M4 - 1u);
  var acc: array<vec4<f32>, 32>;  // row r, this lane's 4 columns
  let K = params.k;
  if (A_UNIFORM) {
    // Window w holds k-rows w kw .. w kw + kw - 1; the k order is the storage loop's.
    let kw = 4096u / M4;
    for (var k = 0u; k < min(kw, K); k++) {
      few_step(&acc, b4(lb + k * R4), au0[k * M4 + ga]);
    }
    for (var k = kw; k < min(2u * kw, K); k++) {
      few_step(&acc, b4(lb + k * R4), au1[(k - kw) * M4 + ga]);
    }
    for (var k = 2u * kw; k < min(3u * kw, K); k++) {
      few_step(&acc, b4(lb + k * R4), au2[(k - 2u * kw) * M4 + ga]);
    }
    for (var k = 3u * kw; k < K; k++) {
      few_step(&acc, b4(lb + k * R4), au3[(k - 3u * kw) * M4 + ga]);
    }
  } else {
    for (var k = 0u; k < K; k++) {
      // Lanes past the row groups skip the load (it runs lane by lane on lavapipe).
      var am = vec4(0.0);
      if (lane < FEW) {
        am = a[za + k * M4 + ga];
      }
      few_step(&acc, b4(lb + k * R4), am);
    }
  }
  let c0 = slab * RN * CB + lane * 4u;
  if (c0 >= params.n) {
    return;
  }
  let b = bias4(c0);
  // A runtime bound (m <= 4 FEW by dispatch): unrolled, these lane-looped stores took the
  // pipeline's compile from 0.3 to 2.9-4.5 s on lavapipe.
  for (var r = 0u; r < params.m; r++) {
    store_row4(acc[r], b, wid.z, r, c0);
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32,
        @builtin(subgroup_invocation_id) sid: u32) {
  let M = params.m;
  let N = params.n;
  let K = params.k;
  let M4 = (M + 3u) / 4u;
  let za = wid.z * params.a_batch / 4u;
  let lane = sid % 8u;
  let nblk = (N + RN - 1u) / RN;
  if (FEW > 0u) {
    few_rows(wid, lid, lane, za, M4, nblk);
    return;
  }
  let g = min(wid.y * WG + lid, M4 - 1u);  // this lane's vec4 of each A^T row
  // Lane L's vec4 of k-row k is b[lb + k bs]: columns 4 L .. 4 L + 3 of the workgroup's 32.
  var lb = lane_b(wid.z, wid.x, lane, nblk);
  var bs = R4;
  if (PLAIN_B) {
    bs = N / 4u;
    lb = wid.z * params.b_batch + min(wid.x * 8u + lane, bs - 1u);
  }
  var acc: array<f32, 256>;  // row slot j: row 4 g + j (lib/tile_fma.wgsl)
  for (var e = 0u; e < RM * RN * CB; e++) {
    acc[e] = 0.0;
  }

  for (var k = 0u; k < K; k++) {
    tile_step_sg(&acc, b4(lb + k * bs), a[za + k * M4 + g]);
  }

  // Row slot j of column c is acc[c RM + j] (lib/tile_fma.wgsl); a vec4 is 4 columns of one row.
  let col0 = wid.x * RN * CB;
  for (var q = 0u; q < RN * CB / 4u; q++) {
    let col = col0 + 4u * q;
    if (col < N) {
      let b = bias4(col);
      for (var j = 0u; j < RM; j++) {
        let r = 4u * (wid.y * WG + lid) + j;
        let e = 4u * q * RM + j;
        if (r < M) {
          store_row4(vec4(acc[e], acc[e + RM], acc[e + 2u * RM], acc[e + 3u * RM]), b, wid.z, r, col);
        }
      }
    }
  }
}
