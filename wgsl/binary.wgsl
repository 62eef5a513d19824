// binary: out[i] = a[i] OP b[(i / b_div) % b_len], 4 elements per invocation.
// The b index covers same-shape operands (b_div 1, b_len n), scalars (b_len 1), trailing
// vectors such as a bias over [..., C] (b_div 1, b_len C) and per-channel vectors over
// [B, C, T, H, W] (b_div T*H*W, b_len C).
//
// a:   array<f32>  [n]
// b:   array<f32>  [b_len]
// out: array<f32>  [n]
// OP: 0 add, 1 sub, 2 mul, 3 div, 4 max, 5 min. SAME: b has a's shape, read at i (the b index's
// division and modulo are scalar on CPU adapters and cost more than the loads).
// Dispatch: ceil(n / (4 * WG)) workgroups, folded into (x, y).

// #include "lib/grid.wgsl"

override WG: u32 = 256;
override OP: u32 = 0;
override SAME: bool = false;

struct Params {
  n: u32,
  b_div: u32,
  b_len: u32,
}

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

fn apply(x: f32, y: f32) -> f32 {
  switch OP {
    case 0u: { return x + y; }
    case 1u: { return x - y; }
    case 2u: { return x * y; }
    case 3u: { return x / y; }
    case 4u: { return max(x, y); }
    default: { return min(x, y); }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let base = (flat_workgroup(wid, nwg) * WG + lid) * 4u;
  for (var k = 0u; k < 4u; k++) {
    let i = base + k;
    if (i < params.n) {
      let j = select((i / params.b_div) % params.b_len, i, SAME);
      out[i] = apply(a[i], b[j]);
    }
  }
}
