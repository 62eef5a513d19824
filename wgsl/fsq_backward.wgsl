// fsq_backward: straight-through gradient of FSQ's codes w.r.t. u, the value fed to tanh
// (z, or project_in(z)). Upstream's round_ste has identity backward, so per element of channel k
// (level L_k, float32 half_l_k and shift_k compiled in, as in fsq_round.wgsl):
//
//   y = tanh(u + shift_k),   du = ((g / (L_k div 2)) * half_l_k) * (1 - y*y)
//
// in torch's float32 order: codes = q / hw, bounded = y * half_l - offset, then tanh's backward
// g * (1 - y*y) from the float32 output y (exactly 0 once y rounds to +-1).
//
// u, g, du: array<f32>  [n]; element i has channel k = (i / spatial) % NL
//           (channel-last [..., NL]: spatial = 1; channel-first [B, NL, ...]: spatial = prod(...))
// Dispatch: ceil(n / (4 WG)) workgroups, folded into (x, y); 4 consecutive elements per invocation.

// #include "lib/grid.wgsl"
// #include "lib/fsq_levels.wgsl"
// #include "lib/fsq_bound.wgsl"

override WG: u32 = 256;

struct Params {
  n: u32,
  spatial: u32,
}

@group(0) @binding(0) var<storage, read> u: array<f32>;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read_write> du: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

// (half_l, shift) of channel k.
fn bound(k: u32) -> vec2<f32> {
  switch k {
    case 0u: { return vec2(H0, SH0); }
    case 1u: { return vec2(H1, SH1); }
    case 2u: { return vec2(H2, SH2); }
    case 3u: { return vec2(H3, SH3); }
    case 4u: { return vec2(H4, SH4); }
    case 5u: { return vec2(H5, SH5); }
    case 6u: { return vec2(H6, SH6); }
    default: { return vec2(H7, SH7); }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i0 = (flat_workgroup(wid, nwg) * WG + lid) * 4u;
  let n = params.n;
  for (var i = i0; i < min(i0 + 4u, n); i++) {
    let k = (i / params.spatial) % NL;
    let c = bound(k);
    // |u + shift| > 15 saturates tanh in f32 (y = +-1, gradient 0); the clamp keeps an exp-based
    // tanh away from inf/inf.
    let y = tanh(clamp(u[i] + c.y, -15.0, 15.0));
    du[i] = g[i] / f32(fsq_level(k) / 2u) * c.x * (1.0 - y * y);
  }
}
