// The body of matmul_packed.wgsl and matmul_packed_f16.wgsl; B comes from the including shader's
// b4() (lib/packed_b_f32.wgsl, lib/packed_b_f16.wgsl).
override WG: u32 = 32;
override RM: u32 = 8;   // rows per invocation, <= 16
override RN: u32 = 16;  // columns per workgroup (packed block width), a multiple of 4, <= 32
override ACT: u32 = 0;
override CB: u32 = 1;   // packed blocks per workgroup (2 for few rows: RM x 2 RN accumulators)
override R4: u32 = RN / 4u;

// #include "lib/matmul_params.wgsl"

@group(0) @binding(0) var<storage, read> a: array<f32>;
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
        tile_fma(&acc, c, i4, b4(wk + i4), v);
      }
    }
  }

  tile_store(&acc, wid.z, wid.x * RN * CB, m0, WG);
}
