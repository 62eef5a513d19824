// rope: rotate-half rotary position embedding (GPT-NeoX / HF LLaMA & InternLM form).
//   with half = HD / 2, j < half, p = pos[b, i], c = cos_t[p, j], s = sin_t[p, j]:
//   out[.., j]        = x[.., j] * c - x[.., j + half] * s
//   out[.., j + half] = x[.., j + half] * c + x[.., j] * s
// cos_t/sin_t hold cos/sin(p * inv_freq[j]) for p < max_pos (built on the host, see kernels/rope.ts);
// positions outside 0..max_pos-1 are clamped into it.
// INVERSE rotates by -theta (s -> -s), the transpose of the rotation: RoPE's backward,
//   dx[j] = g[j] c + g[j + half] s,  dx[j + half] = g[j + half] c - g[j] s.
//
// x, out:       array<f32>  [B, NH, L, HD]
// pos:          array<i32>  [B, L] (pos_stride_b = L) or [L] shared by the batch (pos_stride_b = 0)
// cos_t, sin_t: array<f32>  [max_pos, half]
// Dispatch: ceil(B*NH*L*half / WG) workgroups, one invocation per rotated pair, folded into (x, y).

// #include "lib/grid.wgsl"
// #include "lib/rope_table.wgsl"

override WG: u32 = 256;
override INVERSE: bool = false;

struct Params {
  n: u32,
  half: u32,
  l: u32,
  nh: u32,
  max_pos: u32,
  pos_stride_b: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let idx = flat_workgroup(wid, nwg) * WG + lid;
  if (idx >= params.n) {
    return;
  }
  let half = params.half;
  let row = idx / half;
  let j = idx % half;
  let i = row % params.l;
  let b = row / (params.l * params.nh);
  var cs = rope_cs(b, i, j);
  if (INVERSE) {
    cs.y = -cs.y;
  }
  let e = row * 2u * half + j;
  let r = rope_rotate(x[e], x[e + half], cs);
  out[e] = r.x;
  out[e + half] = r.y;
}
