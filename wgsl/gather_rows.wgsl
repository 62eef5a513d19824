// gather_rows: out[i, :] = table[ids[i], :] (token embedding lookup), for one row chunk of the table.
// A table over one storage binding (the 160005 x 1024 f32 = 625 MiB embedding) is bound as row
// chunks [row0, row0 + rows); one launch per chunk writes exactly the output rows whose id falls
// in it. Ids outside [0, v_total) cannot be reported before the dispatch: the chunk-0 launch
// writes NaN for them and counts them into flag[0].
//
// ids:   array<i32>          [n]
// table: array<f32>          [rows, D] = table rows row0 .. row0 + rows - 1 (gather_rows_f16:
//                            f16 pairs in u32s, [rows, D / 2])
// out:   array<f32>          [n, D]
// flag:  array<atomic<u32>>  [1]
// Dispatch: n workgroups folded into (x, y); workgroup i writes output row i, each invocation
// 4 consecutive columns per step (a whole row per workgroup keeps the launches that skip the row
// because its id is in another chunk down to one id load each).

@group(0) @binding(1) var<storage, read> table: array<f32>;

fn tv(j: u32) -> f32 {
  return table[j];
}

// #include "lib/gather_rows_main.wgsl"
