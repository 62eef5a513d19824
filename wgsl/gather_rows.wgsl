// gather_rows: out[i, :] = table[ids[i], :] (token embedding lookup), for one row chunk of the table.
// A table over one storage binding (the 160005 x 1024 f32 = 625 MiB embedding) is bound as row
// chunks [row0, row0 + rows); one launch per chunk writes exactly the output rows whose id falls
// in it. Ids outside [0, v_total) cannot be reported before the dispatch: the chunk-0 launch
// writes NaN for them and counts them into flag[0].
//
// ids:   array<i32>          [n]
// table: array<f32>          [rows, D] = table rows row0 .. row0 + rows - 1
// out:   array<f32>          [n, D]
// flag:  array<atomic<u32>>  [1]
// Dispatch: n workgroups folded into (x, y); workgroup i writes output row i, each invocation
// 4 consecutive columns per step (a whole row per workgroup keeps the launches that skip the row
// because its id is in another chunk down to one id load each).

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
@group(0) @binding(1) var<storage, read> table: array<f32>;
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
    out[o + c] = table[s + c];
    out[o + c + 1u] = table[s + c + 1u];
    out[o + c + 2u] = table[s + c + 2u];
    out[o + c + 3u] = table[s + c + 3u];
  }
  for (var c = d4 + lid; c < D; c += WG) {
    out[o + c] = table[s + c];
  }
}
