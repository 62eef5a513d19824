// The body of gather_rows.wgsl and gather_rows_f16.wgsl; element j of the bound table chunk is the
// including shader's tv(j) (binding 1).
// #include "lib/grid.wgsl"

override WG: u32 = 64;

struct Params {
  n: u32,
  d: u32,
  row0: u32,
  rows: u32,
  v_total: u32,
}

@group(0) @binding(0) var<storage, read> ids: array<i32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<storage, read_write> flag: array<atomic<u32>>;
@group(0) @binding(4) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flat_workgroup(wid, nwg);
  if (i >= params.n) {
    return;
  }
  let D = params.d;
  let id = ids[i];
  let o = i * D;
  if (id < 0 || u32(id) >= params.v_total) {
    if (params.row0 == 0u) {
      if (lid == 0u) {
        atomicAdd(&flag[0], 1u);
      }
      let nan = bitcast<f32>(0x7fc00000u | (params.n & 0u)); // NaN via a runtime value (const-eval rejects it)
      for (var c = lid; c < D; c += WG) {
        out[o + c] = nan;
      }
    }
    return;
  }
  let r = u32(id) - params.row0;
  if (u32(id) < params.row0 || r >= params.rows) {
    return;
  }
  let s = r * D;
  let d4 = D & ~3u;
  for (var c = lid * 4u; c < d4; c += 4u * WG) {
    out[o + c] = tv(s + c);
    out[o + c + 1u] = tv(s + c + 1u);
    out[o + c + 2u] = tv(s + c + 2u);
    out[o + c + 3u] = tv(s + c + 3u);
  }
  for (var c = d4 + lid; c < D; c += WG) {
    out[o + c] = tv(s + c);
  }
}
