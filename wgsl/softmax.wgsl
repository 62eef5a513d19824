// softmax over the last dim: out[r, i] = exp(z[r, i] - m_r) / sum_j exp(z[r, j] - m_r),
// z = scale * x (scale = 1 / temperature > 0), m_r = max_j z[r, j]. Subtracting the row max
// keeps every exp argument <= 0, so nothing overflows for any finite logits.
//
// x:   array<f32>  [rows, d] row-major
// out: array<f32>  [rows, d]
// One workgroup per row (rows folded into (x, y) with foldGrid). Rows of d <= WG * PER are
// loaded once into registers (one read, one exp per element); longer rows (the 160005-entry
// vocabulary) stream three times: max, sum of exp, write.

// #include "lib/grid.wgsl"

override WG: u32 = 32;
// The caller picks the path: rows of d <= WG * PER in registers (PER <= PER_MAX, the fewest that
// hold the row: lavapipe's JIT time grows with the unrolled PER), longer rows streaming (LONG).
// Each pipeline holds one path (both behind a run-time branch compiled ~1.3x slower).
override LONG: bool = false;
override PER: u32 = 32u;
// The register array's size (private arrays cannot be override-sized).
const PER_MAX: u32 = 32u;

// #include "lib/wg_reduce.wgsl"

struct Params {
  rows: u32,
  d: u32,
  scale: f32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

// The most negative finite f32 (WGSL constants cannot be infinite); pads rows shorter than WG * PER.
const NEG_INF = -0x1.fffffep+127f;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let row = flat_workgroup(wid, nwg);
  if (row >= params.rows) {
    return;
  }
  let d = params.d;
  let base = row * d;
  if (!LONG) {
    var v: array<f32, PER_MAX>;
    var m = NEG_INF;
    for (var k = 0u; k < PER; k++) {
      let i = lid + k * WG;
      v[k] = select(NEG_INF, params.scale * x[base + min(i, d - 1u)], i < d);
      m = max(m, v[k]);
    }
    m = wg_max(m, lid);
    var s = 0.0;
    for (var k = 0u; k < PER; k++) {
      let e = select(0.0, exp(v[k] - m), lid + k * WG < d);
      v[k] = e;
      s += e;
    }
    let inv = 1.0 / wg_sum(s, lid);
    for (var k = 0u; k < PER; k++) {
      let i = lid + k * WG;
      if (i < d) {
        out[base + i] = v[k] * inv;
      }
    }
    return;
  }
  var m = NEG_INF;
  for (var i = lid; i < d; i += WG) {
    m = max(m, params.scale * x[base + i]);
  }
  m = wg_max(m, lid);
  var s = 0.0;
  for (var i = lid; i < d; i += WG) {
    s += exp(params.scale * x[base + i] - m);
  }
  let inv = 1.0 / wg_sum(s, lid);
  for (var i = lid; i < d; i += WG) {
    out[base + i] = exp(params.scale * x[base + i] - m) * inv;
  }
}
