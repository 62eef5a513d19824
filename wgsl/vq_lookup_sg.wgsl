// vq_lookup_sg: PASS 1 of vq_lookup.wgsl (partial argmins over codebook slices) for adapters with
// subgroups of at least 8 invocations; vq_lookup.wgsl's PASS 0 (norms) and PASS 2 (combine) run
// around it. The same sequential fma over E per (row, code), the same distance nv - 2 x.c, codes
// visited in ascending order with a strict < (ties -> lowest index); WGSL leaves fma contraction to
// each pipeline's compiler, so the two may pick different codes only on near-ties.
//   part[s * N + n] = (bitcast<u32>(dist), index) of the best code of slice s for row n
//
// The register tile of matmul_packed_sg (why: see there): each lane owns 4 rows (one vec4 of x^T)
// and a step's 32 codes (two 16-code blocks of the packed codebook), 128 accumulators; the 8 vec4s
// of codebook a k-step needs are loaded once per subgroup and spread with subgroupBroadcast. After
// each 32-code block the lane folds the block's distances into its rows' running (dist, index):
// a lane holds whole rows, so no workgroup reduction is needed.
//
// xt:   array<vec4<f32>>  x^T [E][ceil(N/4)], rows past N zero (matmul's zero-padded A^T)
// cbp:  array<vec4<f32>>  codebook packed as a PackedMatmulWeight.linear: [ceil(V/16)][E][16]
// cn:   array<f32>        [V] code norms (PASS 0)
// part: array<vec2<u32>>  [splits, N]
// Dispatch: (ceil(N / (4 WG)), splits) workgroups of WG invocations; span a multiple of 32.

enable subgroups;

override WG: u32 = 32;
const RM = 4u;  // rows per lane
const RN = 16u; // codes per packed block
const CB = 2u;  // packed blocks per step
// #include "lib/tile_step_sg.wgsl"
// #include "lib/vq_params.wgsl"

@group(0) @binding(0) var<storage, read> xt: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> cbp: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> cn: array<f32>;
@group(0) @binding(3) var<storage, read_write> part: array<vec2<u32>>;
@group(0) @binding(4) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32,
        @builtin(subgroup_invocation_id) sid: u32) {
  let N = params.n;
  let V = params.v;
  let E = params.e;
  let N4 = (N + 3u) / 4u;
  let g = wid.x * WG + lid;
  let gc = min(g, N4 - 1u);
  let lane = sid % 8u;
  let nblk = (V + RN - 1u) / RN;
  let v_begin = wid.y * params.span;
  let v_end = min(v_begin + params.span, V);
  var best_d = array<f32, 4>(3.4e38, 3.4e38, 3.4e38, 3.4e38);
  var best_i = array<u32, 4>(0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu);
  for (var c0 = v_begin; c0 < v_end; c0 += CB * RN) {
    // Lane L's vec4: slot L % 4 of block c0 / 16 + L / 4 (past the last block: the last again).
    let lb = min(c0 / RN + lane / 4u, nblk - 1u) * E * 4u + lane % 4u;
    var acc: array<f32, 256>;
    for (var e = 0u; e < RM * RN * CB; e++) {
      acc[e] = 0.0;
    }
    for (var k = 0u; k < E; k++) {
      tile_step_sg(&acc, cbp[lb + k * 4u], xt[k * N4 + gc]);
    }
    for (var i = 0u; i < CB * RN; i++) {
      let code = c0 + i;
      if (code < v_end) {
        let nv = cn[code];
        for (var j = 0u; j < RM; j++) {
          let d = nv - 2.0 * acc[i * RM + j];
          if (d < best_d[j]) {
            best_d[j] = d;
            best_i[j] = code;
          }
        }
      }
    }
  }
  for (var j = 0u; j < RM; j++) {
    let r = 4u * g + j;
    if (r < N) {
      part[wid.y * N + r] = vec2(bitcast<u32>(best_d[j]), best_i[j]);
    }
  }
}
