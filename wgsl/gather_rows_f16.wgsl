// gather_rows_f16: gather_rows.wgsl from a table stored as f16 (an F16Table: element j is half
// j % 2 of word j / 2), widened to f32 rows.

@group(0) @binding(1) var<storage, read> table: array<u32>;

fn tv(j: u32) -> f32 {
  return unpack2x16float(table[j >> 1u])[j & 1u];
}

// #include "lib/gather_rows_main.wgsl"
