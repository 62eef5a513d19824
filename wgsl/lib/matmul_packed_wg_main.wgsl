// The body of matmul_packed_wg.wgsl and matmul_packed_wg_f16.wgsl; B comes from the including
// shader's b4() (lib/packed_b_f32.wgsl, lib/packed_b_f16.wgsl).
// #include "lib/act.wgsl"
// #include "lib/matmul_params.wgsl"

override ACT: u32 = 0;
// k-rows of A^T and B staged per step.
override TK: u32 = 32u;
const TM = 32u;  // rows per workgroup: 8 invocations x 4
const TN = 32u;  // columns per workgroup: two packed 16-column blocks

@group(0) @binding(0) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read> res: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<uniform> params: Params;

// #include "lib/matmul_store4.wgsl"

// Step k0's tiles, k-row major: ta[kk * 8 + i] = A^T rows 4 i .. 4 i + 3 of the workgroup's 32
// at k0 + kk; tb[kk * 8 + c] = its columns 4 c .. 4 c + 3 (block c / 4, slot c % 4).
var<workgroup> ta: array<vec4<f32>, TK * 8u>;
var<workgroup> tb: array<vec4<f32>, TK * 8u>;

@compute @workgroup_size(8, 8)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) l: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let M = params.m;
  let K = params.k;
  let M4 = (M + 3u) / 4u;
  let nblk = (params.n + 15u) / 16u;
  let za = wid.z * params.a_batch / 4u;
  let zb = wid.z * params.b_batch;
  let m40 = wid.y * (TM / 4u);
  let blk0 = wid.x * (TN / 16u);
  var acc: array<vec4<f32>, 4>;  // acc[i] = out(row 4 l.y + i, columns 4 l.x ..)
  for (var k0 = 0u; k0 < K; k0 += TK) {
    // 64 invocations stage TK x 8 vec4s of each operand; zeros past K, M4 and the blocks.
    for (var e = lid; e < TK * 8u; e += 64u) {
      let k = k0 + e / 8u;
      let c = e % 8u;
      var av = vec4(0.0);
      var bv = vec4(0.0);
      if (k < K) {
        if (m40 + c < M4) {
          av = a[za + k * M4 + m40 + c];
        }
        let blk = blk0 + c / 4u;
        if (blk < nblk) {
          bv = b4(zb + (blk * K + k) * 4u + c % 4u);
        }
      }
      ta[e] = av;
      tb[e] = bv;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < TK; kk++) {
      let av = ta[kk * 8u + l.y];
      let bv = tb[kk * 8u + l.x];
      acc[0] = fma(vec4(av.x), bv, acc[0]);
      acc[1] = fma(vec4(av.y), bv, acc[1]);
      acc[2] = fma(vec4(av.z), bv, acc[2]);
      acc[3] = fma(vec4(av.w), bv, acc[3]);
    }
    workgroupBarrier();
  }
  let col0 = wid.x * TN + 4u * l.x;
  for (var i = 0u; i < 4u; i++) {
    let r = wid.y * TM + 4u * l.y + i;
    if (r < M) {
      store4((wid.z * M + r) * params.out_cols + params.n_off + col0, col0, acc[i]);
    }
  }
}
