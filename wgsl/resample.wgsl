// resample: the 2x spatial resamplers that sit next to the convolutions.
//
//   MODE 0, nearest 2x:     out[n, c, Y, X] = x[n, c,                        Y/2, X/2]
//   MODE 1, depth-to-space: out[n, c, Y, X] = x[n, 4c + 2*(Y%2) + (X%2),     Y/2, X/2]
// and their backwards, where x is the incoming gradient at full resolution and out the gradient
// of the forward's input (same index maps, data flowing the other way):
//   MODE 2, nearest 2x:     out[n, c, y, x] = ((x[.., 2y, 2x] + x[.., 2y, 2x+1]) + x[.., 2y+1, 2x]) + x[.., 2y+1, 2x+1]
//                           (torch's order: the output pixels accumulated row-major)
//   MODE 3, depth-to-space: out[n, 4c + 2*p1 + p2, y, x] = x[n, c, 2y+p1, 2x+p2]
//
// where n is the batch, c the output channel and (Y, X) the output pixel of one plane; a plane is
// one frame (NCDHW, `t` frames per channel) or the whole image (NCHW, t = 1). Depth-to-space is
// einops 'b t (c p1 p2) h w -> b t c (h p1) (w p2)' (MAGVIT-v2 SpatialUpsample2x).
//
// x:   array<f32>  [B, C_in, t, h, w]     (C_in = c for MODE 0, 4c for MODE 1)
// out: array<f32>  [B, c, t, 2h, 2w]
// (MODE 2/3 swap the two layouts: x [B, c, t, 2h, 2w], out [B, C_in, t, h, w].)
// Dispatch: ceil(n / (4 WG)) workgroups, folded into (x, y); n = B*c*t*4*h*w (full-resolution
// elements: the forward's outputs, the backward's inputs).

// #include "lib/grid.wgsl"

override WG: u32 = 256;
override MODE: u32 = 0;

struct Params {
  n: u32,
  c: u32,
  t: u32,
  h: u32,
  w: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  // One invocation per source pixel (n, c, t, y, x) of the output's half-resolution grid; it
  // writes the 2x2 output block (backward: reads it), so the index arithmetic is paid once per
  // 4 full-resolution elements.
  let i = flat_workgroup(wid, nwg) * WG + lid;
  let hw = params.h * params.w;
  if (i >= params.n / 4u) {
    return;
  }
  let s = i % hw;
  let pt = i / hw;                 // (n, c, t) plane index of the output
  let t = pt % params.t;
  let nc = pt / params.t;          // n * c + c_out
  let o = (pt * 2u * params.h + 2u * (s / params.w)) * 2u * params.w + 2u * (s % params.w);
  let w2 = 2u * params.w;
  if (MODE == 0u) {
    let v = x[pt * hw + s];
    out[o] = v;
    out[o + 1u] = v;
    out[o + w2] = v;
    out[o + w2 + 1u] = v;
  } else if (MODE == 1u) {
    let c = nc % params.c;
    let plane = params.t * hw;
    let src = ((nc - c) * 4u + 4u * c) * plane + t * hw + s;
    out[o] = x[src];
    out[o + 1u] = x[src + plane];
    out[o + w2] = x[src + 2u * plane];
    out[o + w2 + 1u] = x[src + 3u * plane];
  } else if (MODE == 2u) {
    out[pt * hw + s] = ((x[o] + x[o + 1u]) + x[o + w2]) + x[o + w2 + 1u];
  } else {
    let c = nc % params.c;
    let plane = params.t * hw;
    let dst = ((nc - c) * 4u + 4u * c) * plane + t * hw + s;
    out[dst] = x[o];
    out[dst + plane] = x[o + 1u];
    out[dst + 2u * plane] = x[o + w2];
    out[dst + 3u * plane] = x[o + w2 + 1u];
  }
}
