// The body of conv3d_causal and its variants (see conv3d_causal.wgsl for the math, layouts and
// blocking): overrides, Params, bindings and conv_main. The including shader binds the packed
// weights (lib/conv_w_f32.wgsl or lib/conv_w_f16.wgsl: `fn wvec(i: u32) -> vec4<f32>`) and
// defines how a (ci, tap) step gets its R4 weight vec4s (lib/conv3d_lane.wgsl, lib/conv3d_sg.wgsl):
//   fn weights_of(wk: u32, lane: u32) -> array<vec4<f32>, 8>   what the subgroup holds for step wk
//   fn weight4(wl: array<vec4<f32>, 8>, wk: u32, i4: u32) -> vec4<f32>   channels 4 i4 .. 4 i4 + 3
// and its entry point calls conv_main.

override WG: u32 = 32;
override RM: u32 = 16;  // output channels per invocation, a multiple of 4
override RN: u32 = 8;   // output positions per invocation, <= 16; RM * RN <= 256
override ACT: u32 = 0;  // 0 none, 1 SiLU (applied after bias, before the residual add)
// 1: frames before 0 may come from `past`. The 0 variant compiles without that copy of the inner
// loop, which shortens the pipeline's compile (figures: bench/README.md, Design measurements).
override STREAM: u32 = 0;
override R4: u32 = RM / 4u;

struct Params {
  batch: u32,
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
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read> res: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;
@group(0) @binding(6) var<uniform> params: Params;

// Element i of `past` or of x (no storage pointer parameters: wgsl/embed.mjs).
fn src_at(from_past: bool, i: u32) -> f32 {
  if (from_past) {
    return past[i];
  }
  return x[i];
}

// One tap (time, row, column) over every input channel: acc[i RN + j] += w(channel i, ci, tap) *
// src[off[j] + ci cs] (0 where !ok[j]), src = past or x, ci in order; the weights of ci start at
// w[wk0 + ci wstep].
fn accumulate(from_past: bool, acc: ptr<function, array<f32, 256>>,
              off: array<u32, 16>, ok: array<bool, 16>, cs: u32, wk0: u32, wstep: u32, lane: u32) {
  for (var ci = 0u; ci < params.cin; ci++) {
    var v: array<f32, 16>;
    for (var j = 0u; j < RN; j++) {
      v[j] = select(0.0, src_at(from_past, off[j] + ci * cs), ok[j]);
    }
    let wk = wk0 + ci * wstep;
    let wl = weights_of(wk, lane);
    for (var i4 = 0u; i4 < R4; i4++) {
      let w4 = weight4(wl, wk, i4);
      for (var i = 0u; i < 4u; i++) {
        for (var j = 0u; j < RN; j++) {
          (*acc)[(i4 * 4u + i) * RN + j] = fma(w4[i], v[j], (*acc)[(i4 * 4u + i) * RN + j]);
        }
      }
    }
  }
}

// The convolution of one invocation; `lane` in 0..7 picks the
// weight vec4 this invocation loads for the subgroup variant's spread (0 otherwise).
fn conv_main(wid: vec3<u32>, nwg: vec3<u32>, lid: u32, lane: u32) {
  let cin = params.cin;
  let nt = params.t;
  let hw = params.h * params.w;
  let howo = params.ho * params.wo;
  let khw = params.kh * params.kw;
  let kvol = params.kt * khw;
  let t = wid.z;
  let co0 = wid.y * RM;
  // Positions run over (b, output position): small frames fill whole tiles.
  let q0 = wid.x * WG * RN + lid;
  // This workgroup's block of packed weights: K rows of RM channels.
  let wblk = wid.y * cin * kvol * R4;
  var iy0: array<i32, 16>;
  var ix0: array<i32, 16>;
  var pok: array<bool, 16>;
  var bj: array<u32, 16>;
  var oj: array<u32, 16>;  // slot j's output offset but for the channel's
  for (var j = 0u; j < RN; j++) {
    let q = q0 + j * WG;
    pok[j] = q < params.batch * howo;
    bj[j] = min(q / howo, params.batch - 1u);
    let p = q % howo;
    oj[j] = bj[j] * params.cout * nt * howo + p;
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
    let fi = u32(select(ti, ti + i32(params.past), from_past));
    var fbase: array<u32, 16>;
    for (var j = 0u; j < RN; j++) {
      fbase[j] = (bj[j] * cin * nf + fi) * hw;
    }
    for (var dy = 0u; dy < params.kh; dy++) {
      for (var dx = 0u; dx < params.kw; dx++) {
        let tap = (a * params.kh + dy) * params.kw + dx;
        var off: array<u32, 16>;
        var ok: array<bool, 16>;
        for (var j = 0u; j < RN; j++) {
          let iy = iy0[j] + i32(dy);
          let ix = ix0[j] + i32(dx);
          ok[j] = pok[j] && iy >= 0 && iy < i32(params.h) && ix >= 0 && ix < i32(params.w);
          off[j] = fbase[j] + select(0u, u32(iy) * params.w + u32(ix), ok[j]);
        }
        // Frames before 0 come from `past` (streaming), the rest from x. Two calls with a constant
        // flag, so each inlined copy of the loop reads one array without a per-load branch.
        if (STREAM == 1u && from_past) {
          accumulate(true, &acc, off, ok, cs, wblk + tap * R4, kvol * R4, lane);
        } else {
          accumulate(false, &acc, off, ok, cs, wblk + tap * R4, kvol * R4, lane);
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
    let cbase = (co * nt + t) * howo;
    for (var j = 0u; j < RN; j++) {
      if (pok[j]) {
        var y = acc[i * RN + j] + bv;
        if (ACT == 1u) {
          y = y / (1.0 + exp(-y));
        }
        let o = oj[j] + cbase;
        if (params.has_res == 1u) {
          y += res[o];
        }
        out[o] = y;
      }
    }
  }
}
