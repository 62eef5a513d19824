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

override WG: u32 = 256;
override NL: u32 = 6;
override L0: u32 = 2;
override L1: u32 = 2;
override L2: u32 = 2;
override L3: u32 = 2;
override L4: u32 = 2;
override L5: u32 = 2;
override L6: u32 = 2;
override L7: u32 = 2;
override H0: f32 = 0.5;
override H1: f32 = 0.5;
override H2: f32 = 0.5;
override H3: f32 = 0.5;
override H4: f32 = 0.5;
override H5: f32 = 0.5;
override H6: f32 = 0.5;
override H7: f32 = 0.5;
override SH0: f32 = 0.0;
override SH1: f32 = 0.0;
override SH2: f32 = 0.0;
override SH3: f32 = 0.0;
override SH4: f32 = 0.0;
override SH5: f32 = 0.0;
override SH6: f32 = 0.0;
override SH7: f32 = 0.0;

struct Params {
  n: u32,
  spatial: u32,
}

@group(0) @binding(0) var<storage, read> u: array<f32>;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read_write> du: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

// (half_l, shift, L div 2) of channel k.
fn level(k: u32) -> vec3<f32> {
  switch k {
    case 0u: { return vec3(H0, SH0, f32(L0 / 2u)); }
    case 1u: { return vec3(H1, SH1, f32(L1 / 2u)); }
    case 2u: { return vec3(H2, SH2, f32(L2 / 2u)); }
    case 3u: { return vec3(H3, SH3, f32(L3 / 2u)); }
    case 4u: { return vec3(H4, SH4, f32(L4 / 2u)); }
    case 5u: { return vec3(H5, SH5, f32(L5 / 2u)); }
    case 6u: { return vec3(H6, SH6, f32(L6 / 2u)); }
    default: { return vec3(H7, SH7, f32(L7 / 2u)); }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i0 = (flat_workgroup(wid, nwg) * WG + lid) * 4u;
  let n = params.n;
  for (var i = i0; i < min(i0 + 4u, n); i++) {
    let c = level((i / params.spatial) % NL);
    // |u + shift| > 15 saturates tanh in f32 (y = +-1, gradient 0); the clamp keeps an exp-based
    // tanh away from inf/inf.
    let y = tanh(clamp(u[i] + c.y, -15.0, 15.0));
    du[i] = g[i] / c.z * c.x * (1.0 - y * y);
  }
}
