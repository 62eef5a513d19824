// softmax_backward over the last dim: dx[r, i] = scale * y[r, i] * (g[r, i] - sum_j g[r, j] y[r, j]),
// y the softmax output, g = dL/dy, scale the forward's 1 / temperature (or an attention scale).
//
// y:   array<f32>  [rows, d] row-major
// g:   array<f32>  [rows, d]
// out: array<f32>  [rows, d]
// One workgroup per row (rows folded into (x, y) with foldGrid). The row is streamed twice (the
// dot product, then the write), so d is unbounded. The dot is a per-invocation sequential sum over
// a fixed stride plus a tree: the same order, hence the same bits, on every run.

// #include "lib/grid.wgsl"

override WG: u32 = 32;

// #include "lib/wg_reduce.wgsl"

struct Params {
  rows: u32,
  d: u32,
  scale: f32,
}

@group(0) @binding(0) var<storage, read> y: array<f32>;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let row = flat_workgroup(wid, nwg);
  if (row >= params.rows) {
    return;
  }
  let d = params.d;
  let base = row * d;
  var s = 0.0;
  for (var i = lid; i < d; i += WG) {
    s = fma(g[base + i], y[base + i], s);
  }
  let dot = wg_sum(s, lid);
  for (var i = lid; i < d; i += WG) {
    out[base + i] = params.scale * y[base + i] * (g[base + i] - dot);
  }
}
