// conv_backward_weight: dL/dw and dL/dbias of the causal 3-D / 2-D convolution
// (wgsl/conv3d_causal.wgsl), as a GEMM-like reduction over all output positions.
//
//   dw[co,ci,a,dy,dx] = sum_{b,t,oy,ox} g[b,co,t,oy,ox] * x[b,ci,t+a-(KT-1), oy*sh-pt+dy, ox*sw-pl+dx]
//   db[co]            = sum_{b,t,oy,ox} g[b,co,t,oy,ox]
//
// GEMM view: M = Cout, N = Cin*KT*KH*KW (column n = ci*kvol + tap, the weight's own layout),
// K = B*T*HO*WO. Padding reads are zeros, so taps over padding add nothing (the padded zeros get
// no gradient). g is read packed, gp[((b*ceil(Cout/RM) + blk)*T*HO*WO + p)*RM + i] = g[b, blk*RM + i, p]
// (pack_blocks; channels past Cout repeat the last one): on lavapipe every load runs lane by lane
// even at a lane-uniform address, so the RM gradients of a position as RM/4 vec4 loads instead of
// RM scalar ones make dW faster (figures: bench/README.md).
// Each invocation owns RM channels x RN columns (lane l, slot j -> column c0 + j*WG + l) and sums
// gp x x over the output rows (b, t, oy) of split wid.z, r in [z*rows, (z+1)*rows), in order, each
// row's ox in order. Writes out[z*Cout*N + co*N + n]: dw itself when there is one split, else the
// partial sums of split z, which reduce.wgsl's reduceSum adds (as it sums db from g).
// Every order is fixed by the shape (the split count too), so results are the same bits every run.
//
// x:    array<f32>        [B, Cin, T, H, W]
// gp:   array<vec4<f32>>  [B, ceil(Cout/RM), T*HO*WO, RM] packed
// out:  array<f32>        [nsplit or 1, Cout, N]
//
// Dispatch: (ceil(N / (WG*RN)), ceil(Cout / RM), nsplit).

// #include "lib/conv_backward_params.wgsl"

override WG: u32 = 32;
override RM: u32 = 16;  // output channels per invocation, a multiple of 4, <= 16
override RN: u32 = 8;   // columns per invocation, <= 16
override R4: u32 = RM / 4u;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> gp: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let nt = params.t;
  let hw = params.h * params.w;
  let howo = params.ho * params.wo;
  let khw = params.kh * params.kw;
  let kvol = params.kt * khw;
  let ncol = params.cin * kvol;
  let cin_thw = params.cin * nt * hw;
  let co0 = wid.y * RM;
  let c0 = wid.x * WG * RN + lid;

  // Per column: where its input sample sits relative to the output position (time, row, column
  // offsets) and the start of its input channel. Columns past N repeat the last one (dropped).
  var ta: array<i32, 16>;
  var ry: array<i32, 16>;
  var rx: array<i32, 16>;
  var xch: array<u32, 16>;
  for (var j = 0u; j < RN; j++) {
    let n = min(c0 + j * WG, ncol - 1u);
    let tap = n % kvol;
    ta[j] = i32(tap / khw) - i32(params.kt - 1u);
    ry[j] = i32((tap / params.kw) % params.kh) - i32(params.pt);
    rx[j] = i32(tap % params.kw) - i32(params.pl);
    xch[j] = (n / kvol) * nt * hw;
  }
  var acc: array<f32, 256>;
  for (var k = 0u; k < RM * RN; k++) {
    acc[k] = 0.0;
  }

  let nrows = params.b * nt * params.ho;
  let r0 = wid.z * params.rows;
  let r1 = min(r0 + params.rows, nrows);
  for (var r = r0; r < r1; r++) {
    let oy = r % params.ho;
    let t = (r / params.ho) % nt;
    let b = r / params.ho / nt;
    var rbase: array<u32, 16>;
    var rok: array<bool, 16>;
    for (var j = 0u; j < RN; j++) {
      let ti = i32(t) + ta[j];
      let iy = i32(oy * params.sh) + ry[j];
      rok[j] = ti >= 0 && iy >= 0 && iy < i32(params.h);
      rbase[j] = select(0u, b * cin_thw + xch[j] + u32(ti) * hw + u32(iy) * params.w, rok[j]);
    }
    // This row's packed gradients: R4 vec4s (RM channels) per position.
    let gb = ((b * ((params.cout + RM - 1u) / RM) + wid.y) * nt * howo + t * howo + oy * params.wo) * R4;
    for (var ox = 0u; ox < params.wo; ox++) {
      var gv: array<f32, 16>;
      for (var i4 = 0u; i4 < R4; i4++) {
        let g4 = gp[gb + ox * R4 + i4];
        for (var i = 0u; i < 4u; i++) {
          gv[i4 * 4u + i] = g4[i];
        }
      }
      var xv: array<f32, 16>;
      for (var j = 0u; j < RN; j++) {
        let ix = i32(ox * params.sw) + rx[j];
        let ok = rok[j] && ix >= 0 && ix < i32(params.w);
        xv[j] = select(0.0, x[rbase[j] + select(0u, u32(ix), ok)], ok);
      }
      for (var i = 0u; i < RM; i++) {
        for (var j = 0u; j < RN; j++) {
          acc[i * RN + j] = fma(gv[i], xv[j], acc[i * RN + j]);
        }
      }
    }
  }

  let obase = wid.z * params.cout * ncol;
  for (var i = 0u; i < RM; i++) {
    let co = co0 + i;
    if (co >= params.cout) {
      break;
    }
    for (var j = 0u; j < RN; j++) {
      let n = c0 + j * WG;
      if (n < ncol) {
        out[obase + co * ncol + n] = acc[i * RN + j];
      }
    }
  }
}
