// attention_backward_dq: passes 1 and 2 of the flash-attention backward, one query row per
// invocation (the row's K/V sweep is recomputed; nothing of size lq x lk exists).
//   s[i,j]  = scale * q_i . k_j, masked as the forward (attention.wgsl): causal j > off + i and
//             max(s + mask[b,j], FMIN) give FMIN, off = lk - lq
//   pass 1: m_i = max_j s[i,j], l_i = sum_j exp(s[i,j] - m_i), D_i = gOut_i . out_i
//           -> stats[i] = (m_i, 1 / l_i, D_i, 0) for pass 3 (attention_backward_dkv.wgsl)
//   pass 2: P = exp(s - m_i) / l_i,  dP = gOut_i . v_j,  dS = P (dP - D_i),  0 where s = FMIN
//           dq_i = scale * sum_j dS[i,j] k_j
// Masked scores (s = FMIN) get exactly 0 gradient; a fully masked row still has P = 1 / lk (the
// forward's uniform average), which only pass 3's dv sees.
// (m, l) is kept instead of logsumexp because m + log(l) rounds back to m when m = FMIN.
// Sums run in a fixed order (keys ascending, head-dim slices ascending): the same bits every run.
//
// q, out, g (= dL/dout), dq: array<vec4<f32>>  [B, NH, lq, HD]
// k, v:                      array<vec4<f32>>  [B, NH, lk, HD]
// mask:                      array<f32>        [B, mask_stride] additive (unread when has_mask = 0)
// stats:                     array<vec4<f32>>  [B, NH, lq]
// Invocation lid owns row q0 + lid % BR and head-dim vec4s [d4 * (lid / BR), +d4) of the hd4 in a
// row: DSPLIT slices of d4 = hd4 / DSPLIT <= 16 (HD = 512 in 64-dim slices keeps private arrays
// bounded; slice partials meet in workgroup memory). A tile holds tk <= 16 keys, tk * hd4 <= CAP.
// Only DSPLIT is a pipeline constant, and the head-dim and tile loop bounds are uniforms: lavapipe's
// compiler fully unrolls constant-trip nested tile loops into minutes of LLVM time per variant; this
// way a few pipelines serve every shape. With DSPLIT = 1 the slice offset folds to 0, so the
// workgroup-memory reads have subgroup-uniform addresses (one load, not one per lane).
// Dispatch: (ceil(lq / BR), NH, B) workgroups of WG invocations. Without a key mask, causal
// workgroups stop at the last key any of their rows can see.

// #include "lib/attention_backward_common.wgsl"

@group(0) @binding(3) var<storage, read> out: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> g: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read_write> dq: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read_write> stats: array<vec4<f32>>;

var<workgroup> ks: array<vec4<f32>, CAP>;
var<workgroup> vs: array<vec4<f32>, CAP>;
var<workgroup> ms: array<f32, TMAX>;

// Loads keys kt..kt+tk-1 (zero past lk), their values when `with_v`, and their mask entries,
// between barriers. Call from uniform control flow.
fn load_tile(lid: u32, b: u32, kbase: u32, kt: u32, with_v: bool) {
  workgroupBarrier();
  for (var e = lid; e < params.tk * params.hd4; e += WG) {
    let key = kt + e / params.hd4;
    let ok = key < params.lk;
    let at = kbase + min(key, params.lk - 1u) * params.hd4 + e % params.hd4;
    ks[e] = select(vec4<f32>(0.0), k[at], ok);
    if (with_v) {
      vs[e] = select(vec4<f32>(0.0), v[at], ok);
    }
  }
  if (lid < params.tk) {
    ms[lid] = key_mask(b, kt + lid);
  }
  workgroupBarrier();
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let sl = select(0u, lid / BR, DSPLIT > 1u);
  let r = lid % BR;
  let hd4 = params.hd4;
  let d4 = params.d4;
  let tk = params.tk;
  let b = wid.z;
  let bh = b * params.nh + wid.y;
  let lq = params.lq;
  let lk = params.lk;
  let q0 = wid.x * BR;
  let qi = q0 + r;
  let row_ok = qi < lq;
  let qpos = lk - lq + qi;
  let d0 = sl * d4;

  var qv: array<vec4<f32>, ROW4MAX>;
  var gv: array<vec4<f32>, ROW4MAX>;
  var acc: array<vec4<f32>, ROW4MAX>;
  let rb = (bh * lq + min(qi, lq - 1u)) * hd4 + d0;
  var dpart = 0.0;
  for (var c = 0u; c < d4; c++) {
    qv[c] = q[rb + c] * params.scale;
    gv[c] = g[rb + c];
    acc[c] = vec4<f32>(0.0);
    dpart += dot(gv[c], out[rb + c]);
  }
  var dd = dpart;
  if (DSPLIT > 1u) {
    part[r * DSPLIT + sl] = vec2<f32>(dpart, 0.0);
    workgroupBarrier();
    dd = 0.0;
    for (var u = 0u; u < DSPLIT; u++) {
      dd += part[r * DSPLIT + u].x;
    }
  }

  let k_end = causal_key_end(q0, BR);
  let kbase = bh * lk * hd4;

  // Pass 1: online max and sum, as the forward.
  var m = FMIN;
  var l = 0.0;
  for (var kt = 0u; kt < k_end; kt += tk) {
    load_tile(lid, b, kbase, kt, false);
    var sd = zero_scores();  // (score, -) per key
    for (var c = 0u; c < d4; c++) {
      let qc = qv[c];
      for (var j = 0u; j < tk; j++) {
        sd[j].x += dot(qc, ks[j * hd4 + d0 + c]);
      }
    }
    sd = reduce_slices(r, sl, sd);
    let n_valid = min(tk, lk - kt);
    var s: array<f32, TMAX>;
    var mt = m;
    for (var j = 0u; j < tk; j++) {
      s[j] = masked(sd[j].x, ms[j], kt + j, qpos);
      if (j < n_valid) {
        mt = max(mt, s[j]);
      }
    }
    var psum = 0.0;
    for (var j = 0u; j < tk; j++) {
      psum += select(0.0, exp(s[j] - mt), j < n_valid);
    }
    l = l * exp(m - mt) + psum;
    m = mt;
  }
  let inv_l = 1.0 / l;
  if (row_ok && sl == 0u) {
    stats[bh * lq + qi] = vec4<f32>(m, inv_l, dd, 0.0);
  }

  // Pass 2: dq.
  for (var kt = 0u; kt < k_end; kt += tk) {
    load_tile(lid, b, kbase, kt, true);
    var sd = zero_scores();  // (score, dP) per key
    for (var c = 0u; c < d4; c++) {
      let qc = qv[c];
      let gc = gv[c];
      for (var j = 0u; j < tk; j++) {
        let at = j * hd4 + d0 + c;
        sd[j] += vec2<f32>(dot(qc, ks[at]), dot(gc, vs[at]));
      }
    }
    sd = reduce_slices(r, sl, sd);
    let n_valid = min(tk, lk - kt);
    var ds: array<f32, TMAX>;
    for (var j = 0u; j < tk; j++) {
      let x = masked(sd[j].x, ms[j], kt + j, qpos);
      ds[j] = select(0.0, exp(x - m) * inv_l * (sd[j].y - dd), j < n_valid && x > FMIN);
    }
    for (var c = 0u; c < d4; c++) {
      var a = acc[c];
      for (var j = 0u; j < tk; j++) {
        a += ds[j] * ks[j * hd4 + d0 + c];
      }
      acc[c] = a;
    }
  }

  if (row_ok) {
    for (var c = 0u; c < d4; c++) {
      dq[rb + c] = acc[c] * params.scale;
    }
  }
}
