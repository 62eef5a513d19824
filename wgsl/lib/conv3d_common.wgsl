// What conv3d_causal's two bodies share (lib/conv3d_body.wgsl: RN positions per invocation,
// strided by WG across lanes; lib/conv3d_row4_body.wgsl: 4 adjacent positions of one row):
// overrides, Params, the bindings other than the input's, and the epilogue.

override WG: u32 = 32;
override RM: u32 = 16;  // output channels per invocation, a multiple of 4
override ACT: u32 = 0;  // 0 none, 1 SiLU (applied after bias, before the residual add)
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

@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read> res: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;
@group(0) @binding(6) var<uniform> params: Params;

// Channel co0 + i at position pos[j] of frame (b, t) gets acc[i n + j] + bias, then SiLU, then the
// residual; positions with !pok[j] and channels past Cout are not written.
fn conv_store(acc: ptr<function, array<f32, 256>>, n: u32, pos: array<u32, 16>, pok: array<bool, 16>,
              co0: u32, b: u32, t: u32) {
  let howo = params.ho * params.wo;
  for (var i = 0u; i < RM; i++) {
    let co = co0 + i;
    if (co >= params.cout) {
      break;
    }
    var bv = 0.0;
    if (params.has_bias == 1u) {
      bv = bias[co];
    }
    let obase = ((b * params.cout + co) * params.t + t) * howo;
    for (var j = 0u; j < n; j++) {
      if (pok[j]) {
        var y = (*acc)[i * n + j] + bv;
        if (ACT == 1u) {
          y = y / (1.0 + exp(-y));
        }
        let o = obase + pos[j];
        if (params.has_res == 1u) {
          y += res[o];
        }
        out[o] = y;
      }
    }
  }
}
