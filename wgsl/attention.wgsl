// attention (flash, prefill): out[b,h,i,:] = sum_j softmax_j(s[i,j]) * v[b,h,j,:] with
//   s[i,j] = scale * q[b,h,i,:] . k[b,h,j,:]
//   causal:  s = FMIN where j > off + i, off = lk - lq (query i sits at key position off + i)
//   mask:    s = max(s + mask[b,j], FMIN)            (additive key mask, HF's 0 / finfo.min)
// FMIN is the float32 minimum, as upstream adds it: a fully masked row is a finite uniform
// average over its keys, and a masked key in a partly masked row gets weight exactly 0.
// Online softmax in f32: running max m, sum l and output acc per row, rescaled by exp(m_old - m)
// once per key tile. No lq x lk buffer exists; workgroup memory holds one K and one V tile.
//
// q:    array<vec4<f32>>  [B, NH, lq, HD]
// k, v: array<vec4<f32>>  [B, NH, k_rows, HD]; rows 0..lk-1 are the keys (k_rows >= lk: a KV cache)
// mask: array<f32>        [B, mask_stride] additive (bound but unread when has_mask = 0)
// out:  array<vec4<f32>>  [B, NH, lq, HD]
// Each invocation owns one query row and DPI = HD / DSPLIT of its head dims (the scores of a row
// are summed over its DSPLIT invocations through workgroup memory, so HD = 512 never has to sit in
// one invocation's registers). Invocation lid -> slice lid / BQ, row lid % BQ.
// Dispatch: (ceil(lq / BQ), NH, B) workgroups of BQ * DSPLIT invocations. Causal workgroups without a
// key mask stop at the last key any of their rows can see, so fully masked key tiles are never loaded.

override HD: u32 = 64;
override DSPLIT: u32 = 1;
override BQ: u32 = 64;
// Keys per tile; at most TKMAX (the private score array's size).
override TK: u32 = 16;

const TKMAX = 16u;
const DPI4MAX = 16u;

override HD4: u32 = HD / 4u;
override DPI4: u32 = HD4 / DSPLIT;
override WG: u32 = BQ * DSPLIT;
override PART: u32 = select(1u, BQ * DSPLIT * TK, DSPLIT > 1u);

// #include "lib/attention_io.wgsl"

var<workgroup> ks: array<vec4<f32>, TK * HD4>;
var<workgroup> vs: array<vec4<f32>, TK * HD4>;
var<workgroup> ms: array<f32, TK>;
// Per-slice partial scores [BQ][DSPLIT][TK]; only used when DSPLIT > 1.
var<workgroup> part: array<f32, PART>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let sl = lid / BQ;
  let r = lid % BQ;
  let b = wid.z;
  let bh = b * params.nh + wid.y;
  let lq = params.lq;
  let lk = params.lk;
  let q0 = wid.x * BQ;
  let qi = q0 + r;
  let row_ok = qi < lq;
  let off = lk - lq;
  let d0 = sl * DPI4;

  var qv: array<vec4<f32>, DPI4MAX>;
  var acc: array<vec4<f32>, DPI4MAX>;
  let qbase = (bh * lq + min(qi, lq - 1u)) * HD4 + d0;
  for (var c = 0u; c < DPI4; c++) {
    qv[c] = q[qbase + c] * params.scale;
    acc[c] = vec4<f32>(0.0);
  }
  var m = FMIN;
  var l = 0.0;

  // With a key mask a row can be fully masked; upstream then averages over all lk keys, so
  // tiles are skipped only for a pure causal mask (where every row sees key 0).
  var k_end = lk;
  if (params.causal != 0u && params.has_mask == 0u) {
    k_end = min(lk, off + q0 + BQ);
  }
  let kbase = bh * params.k_rows * HD4;
  for (var kt = 0u; kt < k_end; kt += TK) {
    workgroupBarrier();
    for (var e = lid; e < TK * HD4; e += WG) {
      let key = kt + e / HD4;
      var kx = vec4<f32>(0.0);
      var vx = vec4<f32>(0.0);
      if (key < lk) {
        let g = kbase + key * HD4 + e % HD4;
        kx = k[g];
        vx = v[g];
      }
      ks[e] = kx;
      vs[e] = vx;
    }
    if (lid < TK) {
      let key = kt + lid;
      var mv = 0.0;
      if (params.has_mask != 0u && key < lk) {
        mv = mask[b * params.mask_stride + key];
      }
      ms[lid] = mv;
    }
    workgroupBarrier();

    var s: array<f32, TKMAX>;
    for (var j = 0u; j < TK; j++) {
      s[j] = 0.0;
    }
    for (var c = 0u; c < DPI4; c++) {
      let qc = qv[c];
      for (var j = 0u; j < TK; j++) {
        s[j] += dot(qc, ks[j * HD4 + d0 + c]);
      }
    }
    if (DSPLIT > 1u) {
      for (var j = 0u; j < TK; j++) {
        part[(r * DSPLIT + sl) * TK + j] = s[j];
      }
      workgroupBarrier();
      for (var j = 0u; j < TK; j++) {
        var t = 0.0;
        for (var u = 0u; u < DSPLIT; u++) {
          t += part[(r * DSPLIT + u) * TK + j];
        }
        s[j] = t;
      }
    }

    let n_valid = min(TK, lk - kt);
    var mt = m;
    for (var j = 0u; j < TK; j++) {
      var x = s[j];
      if (params.has_mask != 0u) {
        x = max(x + ms[j], FMIN);
      }
      if (params.causal != 0u && kt + j > off + qi) {
        x = FMIN;
      }
      s[j] = x;
      if (j < n_valid) {
        mt = max(mt, x);
      }
    }
    let alpha = exp(m - mt);
    m = mt;
    var psum = 0.0;
    for (var j = 0u; j < TK; j++) {
      let p = select(0.0, exp(s[j] - mt), j < n_valid);
      s[j] = p;
      psum += p;
    }
    l = l * alpha + psum;
    for (var c = 0u; c < DPI4; c++) {
      var a = acc[c] * alpha;
      for (var j = 0u; j < TK; j++) {
        a += s[j] * vs[j * HD4 + d0 + c];
      }
      acc[c] = a;
    }
  }

  if (row_ok) {
    let inv = 1.0 / l;
    let obase = (bh * lq + qi) * HD4 + d0;
    for (var c = 0u; c < DPI4; c++) {
      out[obase + c] = acc[c] * inv;
    }
  }
}
