// conv_backward_cols: one chunk of rows of the columns matrix (im2col) that conv_backward's dW
// GEMM reads (wgsl/conv3d_causal.wgsl's convolution, the geometry of conv_backward_input.wgsl):
//
//   cols[r, n] = x[b, ci, t + a - (KT-1), oy*sh - pt + dy, ox*sw - pl + dx]   (0 outside x)
//
// row r = (frame - f0)*HO*WO + oy*WO + ox of the chunk's frames (b, t) = (frame / T, frame % T),
// f0 <= frame < f0 + frames; n = ((ci*(KT - a0) + a - a0)*KH + dy)*KW + dx over the taps
// a >= a0 = max(0, KT - T): earlier time taps only ever read the causal zero frames, so they get
// no column (their dW is zero; 5 of a 7-tap kernel's 7 on a 2-frame clip). Rows are ldc floats
// long, ldc = ncol rounded up to a multiple of 4 with the padding columns written 0, so the packed
// GEMM reads cols as its A^T [K][MP] without a copy.
// An invocation owns one row r (a frame's output position p = (oy, ox)) and one (ci, a), and writes
// its KH * KW columns (the last one also the padding columns); rows run over every frame of the
// chunk, so small frames fill whole workgroups. KH and KW are compiled in, so the tap loops
// unroll. Every quotient is taken
// in f32 (fdiv): lavapipe runs a u32 division lane by lane, which took most of this kernel's time
// (figures: bench/README.md); the host keeps every dividend below 2^20, where it is exact.
//
// x:   array<f32>  [B, Cin, T, H, W]
// out: array<f32>  [frames * HO * WO, ldc]
// Dispatch: (ceil(frames * HO * WO / WG), Cin * (KT - a0), 1).

// #include "lib/conv_backward_params.wgsl"

override WG: u32 = 64;
override KH: u32 = 3;
override KW: u32 = 3;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

// floor(a / d) for a < 2^20: (a + 0.5) / d is at least 0.5 / d from an integer, and WGSL's f32
// division (within 2.5 ulp) errs by less than that while a + 0.5 < 2^23 / 5.
fn fdiv(a: u32, d: u32) -> u32 {
  return u32((f32(a) + 0.5) / f32(d));
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let howo = params.ho * params.wo;
  let r = wid.x * WG + lid;
  if (r >= params.frames * howo) {
    return;
  }
  let fr = fdiv(r, howo);
  let p = r - fr * howo;
  let oy = fdiv(p, params.wo);
  let ox = p - oy * params.wo;
  let m = wid.y;  // (ci, a - a0)
  let kta = params.kt - params.a0;
  let ci = fdiv(m, kta);
  let a = m - ci * kta + params.a0;
  let frame = params.f0 + fr;
  let b = fdiv(frame, params.t);
  let t = frame - b * params.t;
  let ti = i32(t + a) - i32(params.kt - 1u);
  let o = r * params.ldc;
  let ok_t = ti >= 0;
  let xch = select(0u, ((b * params.cin + ci) * params.t + u32(ti)) * params.h, ok_t);
  for (var dy = 0u; dy < KH; dy++) {
    let iy = i32(oy * params.sh + dy) - i32(params.pt);
    let row_ok = ok_t && iy >= 0 && iy < i32(params.h);
    let xrow = select(0u, (xch + u32(iy)) * params.w, row_ok);
    for (var dx = 0u; dx < KW; dx++) {
      let ix = i32(ox * params.sw + dx) - i32(params.pl);
      let ok = row_ok && ix >= 0 && ix < i32(params.w);
      out[o + (m * KH + dy) * KW + dx] = select(0.0, x[xrow + select(0u, u32(ix), ok)], ok);
    }
  }
  if (m + 1u == nwg.y) {
    for (var n = (m + 1u) * KH * KW; n < params.ldc; n++) {
      out[o + n] = 0.0;
    }
  }
}
