// rope_qkv: one fused q|k|v projection row split into heads, q and k rotated (rope.wgsl's
// rotate-half RoPE) and k, v written into rows start.. of their destinations (a KV cache): what
// a decode step did in two ropes, two head permutes and two cache appends, in one dispatch.
//   with H = NH HD, half = HD / 2, j < half, p = pos[b, i], c = cos_t[p, j], s = sin_t[p, j],
//   src = qkv[b, i, :] (q at 0, k at H, v at 2 H; head h at h HD):
//   q_out[b, h, i, j] = q[j] c - q[j + half] s,  q_out[b, h, i, j + half] = q[j + half] c + q[j] s
//   k_dst[b, h, start + i, ..] likewise from k;  v_dst[b, h, start + i, ..] = v
// Positions outside 0..max_pos-1 are clamped into it, as in rope.wgsl.
//
// qkv:          array<f32>  [B, L, 3 H]
// pos:          array<i32>  [B, L] (pos_stride_b = L) or [L] shared by the batch (pos_stride_b = 0)
// cos_t, sin_t: array<f32>  [max_pos, half]
// q_out:        array<f32>  [B, NH, L, HD]
// k_dst, v_dst: array<f32>  [B, NH, S, HD], rows start .. start + L - 1 written
// Dispatch: ceil(B NH L half / WG) workgroups, one invocation per rotated pair, folded into (x, y).

// #include "lib/grid.wgsl"
// #include "lib/rope_table.wgsl"

override WG: u32 = 256;

struct Params {
  n: u32,
  half: u32,
  l: u32,
  nh: u32,
  max_pos: u32,
  pos_stride_b: u32,
  s: u32,
  start: u32,
}

@group(0) @binding(0) var<storage, read> qkv: array<f32>;
@group(0) @binding(4) var<storage, read_write> q_out: array<f32>;
@group(0) @binding(5) var<storage, read_write> k_dst: array<f32>;
@group(0) @binding(6) var<storage, read_write> v_dst: array<f32>;
@group(0) @binding(7) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let idx = flat_workgroup(wid, nwg) * WG + lid;
  if (idx >= params.n) {
    return;
  }
  let half = params.half;
  let hd = 2u * half;
  let row = idx / half;
  let j = idx % half;
  let i = row % params.l;
  let bh = row / params.l;
  let b = bh / params.nh;
  let h = bh % params.nh;
  let H = params.nh * hd;
  let cs = rope_cs(b, i, j);
  let src = (b * params.l + i) * 3u * H + h * hd + j;
  let q = rope_rotate(qkv[src], qkv[src + half], cs);
  let e = row * hd + j;
  q_out[e] = q.x;
  q_out[e + half] = q.y;
  let k = rope_rotate(qkv[src + H], qkv[src + H + half], cs);
  let d = (bh * params.s + params.start + i) * hd + j;
  k_dst[d] = k.x;
  k_dst[d + half] = k.y;
  v_dst[d] = qkv[src + 2u * H];
  v_dst[d + half] = qkv[src + 2u * H + half];
}
