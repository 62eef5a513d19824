// conv3d_causal: causal 3-D convolution as an implicit GEMM (also the 2-D convs, with KT = T = 1).
//
//   out[b,co,t,oy,ox] = act(bias[co] + sum_{ci,a,dy,dx} w[co,ci,a,dy,dx] * in[b,ci,t+a-(KT-1), oy*sh-ph+dy, ox*sw-pw+dx])
//                       (+ res[b,co,t,oy,ox])
//
// GEMM view: M = Cout, N = output positions, K = Cin*KT*KH*KW. Nothing is materialised: every
// input read is an index predicate. Frames before 0 (ti < 0) come from `past` (the last `past`
// frames before this chunk, streaming mode) and are zero beyond it (causal padding); rows/columns
// outside the input are zero (spatial padding, per side: top/left = ph/pw, bottom/right implied by
// ho/wo). Output frame count = input frame count.
//
// x:    array<f32>  [B, Cin, T, H, W]
// past: array<f32>  [B, Cin, past, H, W]  (any read-only buffer when past = 0)
// w:    array<vec4<f32>>  packed [ceil(Cout/RM), Cin, KT, KH, KW, RM]: channel co = blk*RM + i of
//       row k at (blk*K + k)*RM + i, so one workgroup's RM weights of a k are R4 vec4 loads;
//       channels past Cout repeat the last one (their results are dropped).
//       PACK = 1 reads the plain [Cout, Cin, KT, KH, KW] weights from `w` and writes the packed
//       layout to `out`, one vec4 per invocation, grid folded into (x, y).
// bias: array<f32>  [Cout]                 (read only when has_bias = 1)
// res:  array<f32>  [B, Cout, T, HO, WO]   (read only when has_res = 1)
// out:  array<f32>  [B, Cout, T, HO, WO]
//
// Register blocking: each invocation owns RM output channels x RN positions in RM*RN scalar
// accumulators (lavapipe spills vec4 accumulators). The channel block is the same for the whole
// workgroup, so weight loads are lane-uniform vec4 loads of the packed weights; positions differ per
// lane (lane l, slot j -> position p0 + j*WG + l), so input loads are per-lane. A workgroup stays
// inside one (b, t) frame, which makes the time tap's source (x, past or zero) uniform: padded
// frames are skipped, not multiplied by zero. Summation order per output element is fixed
// (time tap, row tap, column tap, then ci), independent of the grid, so a chunked (streaming) pass
// is bit-identical to the whole-clip pass.
//
// Variant conv3d_causal_sg (adapters with subgroups of >= 8 invocations; RM = 32, RN = 4): the
// 8 vec4s of weights a (ci, tap) step needs are loaded once per subgroup, one per lane, and spread
// with subgroupBroadcast instead of each lane loading all of them. On lavapipe every load inside
// these loops runs lane by lane even at a uniform address, so this cuts the loads per 128 FMAs from
// 4 vec4 + 8 scalar per lane to 1 vec4 + 4 scalar (figures: bench/README.md, Design measurements).
// Same summation order, so both variants give bit-identical results.
//
// Dispatch: (ceil(HO*WO / (WG*RN)), ceil(Cout / RM), B*T); PACK: ceil(n / (4 WG)) folded, n = ceil(Cout/RM)*RM*K.

// #variant conv3d_causal_sg SUBGROUPS
// #if SUBGROUPS
enable subgroups;
// #include "lib/spread8.wgsl"
// #endif
// #include "lib/grid.wgsl"

override WG: u32 = 32;
override RM: u32 = 16;  // output channels per invocation, a multiple of 4
override RN: u32 = 8;   // output positions per invocation, <= 16; RM * RN <= 256
override ACT: u32 = 0;  // 0 none, 1 SiLU (applied after bias, before the residual add)
override PACK: u32 = 0; // 1: the weight-packing pass instead of the convolution
// 1: frames before 0 may come from `past`. The 0 variant compiles without that copy of the inner
// loop, which shortens the pipeline's compile (figures: bench/README.md, Design measurements).
override STREAM: u32 = 0;
override R4: u32 = RM / 4u;

struct Params {
  cin: u32,
  cout: u32,
  t: u32,
  h: u32,
  w: u32,
  past: u32,
  ho: u32,
  wo: u32,
  kt: u32,
  kh: u32,
  kw: u32,
  sh: u32,
  sw: u32,
  ph: i32,
  pw: i32,
  has_bias: u32,
  has_res: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> past: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read> res: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;
@group(0) @binding(6) var<uniform> params: Params;

fn pack_weights(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) {
  // One vec4 of the packed layout (4 channels of one row k) per invocation.
  let k = params.cin * params.kt * params.kh * params.kw;
  let e = flat_workgroup(wid, nwg) * WG + lid;
  if (e >= (params.cout + RM - 1u) / RM * R4 * k) {
    return;
  }
  let r = e / R4;
  let c0 = (r / k) * RM + (e % R4) * 4u;
  for (var q = 0u; q < 4u; q++) {
    let s = min(c0 + q, params.cout - 1u) * k + r % k;
    out[e * 4u + q] = w[s / 4u][s % 4u];
  }
}

// One tap (time, row, column) over every input channel: acc[i RN + j] += w(channel i, ci, tap) *
// src[off[j] + ci cs] (0 where !ok[j]), ci in order; the weights of ci start at w[wk0 + ci wstep].
fn accumulate(src: ptr<storage, array<f32>, read>, acc: ptr<function, array<f32, 256>>,
              off: array<u32, 16>, ok: array<bool, 16>, cs: u32, wk0: u32, wstep: u32, lane: u32) {
  for (var ci = 0u; ci < params.cin; ci++) {
    var v: array<f32, 16>;
    for (var j = 0u; j < RN; j++) {
      v[j] = select(0.0, (*src)[off[j] + ci * cs], ok[j]);
    }
    let wk = wk0 + ci * wstep;
// #if SUBGROUPS
    let wl = spread8(w[wk + lane]);
// #endif
    for (var i4 = 0u; i4 < R4; i4++) {
// #if SUBGROUPS
      let w4 = wl[i4];
// #else
      let w4 = w[wk + i4];
// #endif
      for (var i = 0u; i < 4u; i++) {
        for (var j = 0u; j < RN; j++) {
          (*acc)[(i4 * 4u + i) * RN + j] = fma(w4[i], v[j], (*acc)[(i4 * 4u + i) * RN + j]);
        }
      }
    }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
// #if SUBGROUPS
        @builtin(subgroup_invocation_id) sid: u32,
// #endif
        @builtin(local_invocation_index) lid: u32) {
  let cin = params.cin;
  let nt = params.t;
  let hw = params.h * params.w;
  let howo = params.ho * params.wo;
  let khw = params.kh * params.kw;
  let kvol = params.kt * khw;
  let b = wid.z / nt;
  let t = wid.z % nt;
  let co0 = wid.y * RM;
  let p0 = wid.x * WG * RN + lid;

  if (PACK == 1u) {
    pack_weights(wid, nwg, lid);
    return;
  }
  // This workgroup's block of packed weights: K rows of RM channels.
  let wblk = wid.y * cin * kvol * R4;
// #if SUBGROUPS
  let lane = sid % 8u;
// #else
  let lane = 0u;
// #endif
  var iy0: array<i32, 16>;
  var ix0: array<i32, 16>;
  var pok: array<bool, 16>;
  for (var j = 0u; j < RN; j++) {
    let p = p0 + j * WG;
    pok[j] = p < howo;
    iy0[j] = i32((p / params.wo) * params.sh) - params.ph;
    ix0[j] = i32((p % params.wo) * params.sw) - params.pw;
  }
  var acc: array<f32, 256>;
  for (var k = 0u; k < RM * RN; k++) {
    acc[k] = 0.0;
  }

  for (var a = 0u; a < params.kt; a++) {
    let ti = i32(t + a) - i32(params.kt - 1u);
    if (ti < -i32(params.past)) {
      continue;  // causal zero padding: no contribution
    }
    // Start of input channel 0 of this frame and the stride between channels, in x or past.
    let from_past = ti < 0;
    let nf = select(nt, params.past, from_past);
    let cs = nf * hw;
    let fbase = (b * cin * nf + u32(select(ti, ti + i32(params.past), from_past))) * hw;
    for (var dy = 0u; dy < params.kh; dy++) {
      for (var dx = 0u; dx < params.kw; dx++) {
        let tap = (a * params.kh + dy) * params.kw + dx;
        var off: array<u32, 16>;
        var ok: array<bool, 16>;
        for (var j = 0u; j < RN; j++) {
          let iy = iy0[j] + i32(dy);
          let ix = ix0[j] + i32(dx);
          ok[j] = pok[j] && iy >= 0 && iy < i32(params.h) && ix >= 0 && ix < i32(params.w);
          off[j] = fbase + select(0u, u32(iy) * params.w + u32(ix), ok[j]);
        }
        // Frames before 0 come from `past` (streaming), the rest from x.
        if (STREAM == 1u && from_past) {
          accumulate(&past, &acc, off, ok, cs, wblk + tap * R4, kvol * R4, lane);
        } else {
          accumulate(&x, &acc, off, ok, cs, wblk + tap * R4, kvol * R4, lane);
        }
      }
    }
  }

  for (var i = 0u; i < RM; i++) {
    let co = co0 + i;
    if (co >= params.cout) {
      break;
    }
    var bv = 0.0;
    if (params.has_bias == 1u) {
      bv = bias[co];
    }
    let obase = ((b * params.cout + co) * nt + t) * howo;
    for (var j = 0u; j < RN; j++) {
      if (pok[j]) {
        var y = acc[i * RN + j] + bv;
        if (ACT == 1u) {
          y = y / (1.0 + exp(-y));
        }
        let o = obase + p0 + j * WG;
        if (params.has_res == 1u) {
          y += res[o];
        }
        out[o] = y;
      }
    }
  }
}
