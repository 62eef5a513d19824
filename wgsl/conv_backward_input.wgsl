// conv_backward_input: dL/dx of the causal 3-D / 2-D convolution (wgsl/conv3d_causal.wgsl), as a
// gather: each input element sums the output gradients of the windows that read it.
//
//   dx[b,ci,ti,iy,ix] = sum_{a,dy,dx,co} w[co,ci,a,dy,dx] * g[b,co,ti+(KT-1)-a, oy, ox]
//     where oy*sh = iy+pt-dy, ox*sw = ix+pl-dx (exact), 0 <= oy < HO, 0 <= ox < WO, ti+(KT-1)-a < T
//
// Taps that land on padding (before frame 0, outside the image) simply have no gradient to gather.
// Stride phases: with stride s, input row iy is reached only by the row taps dy = (iy+pt) mod s
// (mod s). Each workgroup stays inside one phase (iy mod sh, ix mod sw), so its tap set is uniform
// and only the taps that exist are visited (a stride-2 3x3 visits 1-4 taps per pixel, not 9).
//
// g:   array<f32>        [B, Cout, T, HO, WO]
// w:   array<vec4<f32>>  packed [Cout, ceil(Cin/RC), KT, KH, KW, RC] (pack_blocks, a batch per co):
//      input channel ci = blk*RC + i of (co, tap) at ((co*nblk + blk)*kvol + tap)*RC + i (past
//      Cin: repeats, never stored), so a workgroup's RC weights of one (co, tap) are R4
//      lane-uniform vec4 loads.
// out: array<f32>        [B, Cin, T, H, W]; every element is written (0 where no window reads it).
//
// Register blocking: RC input channels x RP positions of one phase per invocation (lane l, slot j
// -> position p0 + j*WG + l of the phase's positions of every clip, (b, phase position), so small
// frames fill whole tiles). The channel blocks of one position tile are neighbouring workgroups,
// so they read the same gradients while cached. Summation order per element: time tap, row tap,
// column tap, then co, independent of the grid.
//
// Dispatch: (ceil(Cin / RC), ceil(B*ceil(H/sh)*ceil(W/sw) / (WG*RP)), T*sh*sw).

// #include "lib/grid.wgsl"
// #include "lib/conv_backward_params.wgsl"
// #include "lib/tile_fma.wgsl"

override WG: u32 = 32;
override RC: u32 = 16;  // input channels per invocation, a multiple of 4
override RP: u32 = 8;   // positions per invocation, <= 16; RC * RP <= 256
override R4: u32 = RC / 4u;
// lib/tile_fma.wgsl's names for this tile: RM row slots (the positions), RN columns (the channels).
override RM: u32 = RP;
override RN: u32 = RC;

@group(0) @binding(0) var<storage, read> g: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

// One tap over every output channel: acc[i RP + j] += w(ci0 + i, co, tap) * g[off[j] + co cs]
// (0 where !ok[j]), co in order; the weights of co start at w[wk0 + co wstep].
fn accumulate(acc: ptr<function, array<f32, 256>>, off: array<u32, 16>, ok: array<bool, 16>,
              cs: u32, wk0: u32, wstep: u32) {
  for (var co = 0u; co < params.cout; co++) {
    var v: array<f32, 16>;
    for (var j = 0u; j < RP; j++) {
      v[j] = select(0.0, g[off[j] + co * cs], ok[j]);
    }
    let wk = wk0 + co * wstep;
    for (var i4 = 0u; i4 < R4; i4++) {
      tile_fma(acc, 0u, i4, w[wk + i4], v);
    }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let sh = params.sh;
  let sw = params.sw;
  let nt = params.t;
  let howo = params.ho * params.wo;
  let kvol = params.kt * params.kh * params.kw;
  let phase = wid.z % (sh * sw);
  let ti = wid.z / (sh * sw);
  let py = phase / sw;
  let px = phase % sw;
  // This phase's positions: rows py, py+sh, ... < H and columns px, px+sw, ... < W.
  let nqy = (params.h - py + sh - 1u) / sh;
  let nqx = (params.w - px + sw - 1u) / sw;
  let p0 = wid.y * WG * RP + lid;

  let nq = nqy * nqx;
  var qy: array<i32, 16>;
  var qx: array<i32, 16>;
  var pok: array<bool, 16>;
  var bj: array<u32, 16>;
  var ob: array<u32, 16>;  // slot j's clip's offset in out
  let hw = params.h * params.w;
  for (var j = 0u; j < RP; j++) {
    let q = p0 + j * WG;
    pok[j] = q < params.b * nq;
    bj[j] = min(q / max(nq, 1u), params.b - 1u);
    ob[j] = bj[j] * params.cin * nt * hw;
    let l = q % max(nq, 1u);
    qy[j] = i32(l / max(nqx, 1u));
    qx[j] = i32(l % max(nqx, 1u));
  }
  var acc: array<f32, 256>;
  for (var k = 0u; k < RC * RP; k++) {
    acc[k] = 0.0;
  }

  let wblk = wid.x * kvol * R4;
  let wco = (params.cin + RC - 1u) / RC * kvol * R4;  // from one co to the next
  let cs = nt * howo;
  for (var a = 0u; a < params.kt; a++) {
    let tg = ti + params.kt - 1u - a;
    if (tg >= nt) {
      continue;  // that output frame does not exist (the last frames are read by fewer taps)
    }
    var gbase: array<u32, 16>;
    for (var j = 0u; j < RP; j++) {
      gbase[j] = (bj[j] * params.cout * nt + tg) * howo;
    }
    // Only the taps of this phase: dy = (py + pt) mod sh, stepping by sh.
    for (var dy = (py + params.pt) % sh; dy < params.kh; dy += sh) {
      let oyo = (i32(py + params.pt) - i32(dy)) / i32(sh);  // exact division
      for (var dx = (px + params.pl) % sw; dx < params.kw; dx += sw) {
        let oxo = (i32(px + params.pl) - i32(dx)) / i32(sw);
        var off: array<u32, 16>;
        var ok: array<bool, 16>;
        for (var j = 0u; j < RP; j++) {
          let oy = qy[j] + oyo;
          let ox = qx[j] + oxo;
          ok[j] = pok[j] && oy >= 0 && oy < i32(params.ho) && ox >= 0 && ox < i32(params.wo);
          off[j] = gbase[j] + select(0u, u32(oy) * params.wo + u32(ox), ok[j]);
        }
        let tap = (a * params.kh + dy) * params.kw + dx;
        accumulate(&acc, off, ok, cs, wblk + tap * R4, wco);
      }
    }
  }

  for (var i = 0u; i < RC; i++) {
    let ci = wid.x * RC + i;
    if (ci >= params.cin) {
      break;
    }
    let cbase = (ci * nt + ti) * hw;
    for (var j = 0u; j < RP; j++) {
      if (pok[j]) {
        let iy = py + u32(qy[j]) * sh;
        let ix = px + u32(qx[j]) * sw;
        out[ob[j] + cbase + iy * params.w + ix] = acc[i * RP + j];
      }
    }
  }
}
