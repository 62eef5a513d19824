// mean_pool: out[r] = (1 / n) * sum_{i < n} x[r * n + i], the mean over the trailing dims
// (for [B, C, T, H, W] with start axis 2: r = b * C + c, n = T * H * W).
// Each invocation sums a strided subset (n / WG terms) in blocks of BLOCK, then a log2(WG)
// tree combines the partial sums.
//
// x:   array<f32>  [rows, n] row-major
// out: array<f32>  [rows]
// One workgroup per row, rows folded into (x, y) with foldGrid.

// #include "lib/grid.wgsl"

override WG: u32 = 32;
const BLOCK: u32 = 32u;

// #include "lib/wg_reduce.wgsl"

struct Params {
  rows: u32,
  n: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let row = flat_workgroup(wid, nwg);
  if (row >= params.rows) {
    return;
  }
  let base = row * params.n;
  // Two levels per invocation: blocks of up to BLOCK strided terms, then the block sums, so a
  // 32768-element row never adds a term to a running sum more than ~BLOCK times its size.
  var s = 0.0;
  for (var start = lid; start < params.n; start += WG * BLOCK) {
    var blk = 0.0;
    for (var i = start; i < min(params.n, start + WG * BLOCK); i += WG) {
      blk += x[base + i];
    }
    s += blk;
  }
  let total = wg_sum(s, lid);
  if (lid == 0u) {
    out[row] = total / f32(params.n);
  }
}
