// attention_backward_dkv: pass 3 of the flash-attention backward, one key row per invocation,
// sweeping the query rows with the row statistics of pass 1 (attention_backward_dq.wgsl).
//   s[i,j] = scale * q_i . k_j masked as the forward; P = exp(s - m_i) / l_i; dP = gOut_i . v_j
//   dv_j = sum_i P[i,j] gOut_i
//   dk_j = scale * sum_i dS[i,j] q_i,  dS = P (dP - D_i), exactly 0 where s = FMIN (masked)
// Sums run over queries ascending (head-dim slices ascending): the same bits every run.
//
// q, g (= dL/dout): array<vec4<f32>>  [B, NH, lq, HD]
// k, v, dk, dv:     array<vec4<f32>>  [B, NH, lk, HD]
// stats:            array<vec4<f32>>  [B, NH, lq]  (m_i, 1 / l_i, D_i, -)
// mask:             array<f32>        [B, mask_stride] additive (unread when has_mask = 0)
// Invocation lid owns key row k0 + lid % BR and head-dim vec4s [d4 * (lid / BR), +d4); a tile holds
// tq <= 16 queries, tq * hd4 <= CAP. Pipeline constants and uniform loop bounds as in
// attention_backward_dq.wgsl (few pipelines, no minutes-long unrolled compiles on lavapipe).
// Dispatch: (ceil(lk / BR), NH, B) workgroups of WG invocations. Without a key mask, causal
// workgroups start at the first query that sees any of their keys.

// #include "lib/attention_backward_common.wgsl"

@group(0) @binding(3) var<storage, read> g: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> stats: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read_write> dk: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read_write> dv: array<vec4<f32>>;

// Query tile: q pre-scaled (so dk needs no final scale), gOut, and the rows' stats.
var<workgroup> qs: array<vec4<f32>, CAP>;
var<workgroup> gs: array<vec4<f32>, CAP>;
var<workgroup> st: array<vec4<f32>, TMAX>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let sl = select(0u, lid / BR, DSPLIT > 1u);
  let r = lid % BR;
  let hd4 = params.hd4;
  let d4 = params.d4;
  // Queries per tile (the shared Params calls it tk).
  let tq = params.tk;
  let b = wid.z;
  let bh = b * params.nh + wid.y;
  let lq = params.lq;
  let lk = params.lk;
  let k0 = wid.x * BR;
  let kj = k0 + r;
  let key_ok = kj < lk;
  let off = lk - lq;
  let d0 = sl * d4;

  let rb = (bh * lk + min(kj, lk - 1u)) * hd4 + d0;
  var kv: array<vec4<f32>, ROW4MAX>;  // this invocation's k and v slice, zero past d4
  var vv: array<vec4<f32>, ROW4MAX>;
  for (var c = 0u; c < d4; c++) {
    kv[c] = k[rb + c];
    vv[c] = v[rb + c];
  }
  var ak: array<vec4<f32>, ROW4MAX>;  // dk, dv accumulators, zero-initialised
  var av: array<vec4<f32>, ROW4MAX>;
  let mv = key_mask(b, kj);
  let i_begin = causal_query_begin(k0);
  let qbase = bh * lq * hd4;
  for (var it = i_begin; it < lq; it += tq) {
    workgroupBarrier();
    for (var e = lid; e < tq * hd4; e += WG) {
      let qi = it + e / hd4;
      let ok = qi < lq;
      let at = qbase + min(qi, lq - 1u) * hd4 + e % hd4;
      qs[e] = select(vec4<f32>(0.0), q[at] * params.scale, ok);
      gs[e] = select(vec4<f32>(0.0), g[at], ok);
    }
    if (lid < tq) {
      let qi = it + lid;
      st[lid] = select(vec4<f32>(0.0), stats[bh * lq + min(qi, lq - 1u)], qi < lq);
    }
    workgroupBarrier();

    var sd = zero_scores();  // (score, dP) per query
    for (var c = 0u; c < d4; c++) {
      let kc = kv[c];
      let vc = vv[c];
      for (var i = 0u; i < tq; i++) {
        let at = i * hd4 + d0 + c;
        sd[i] += vec2<f32>(dot(qs[at], kc), dot(gs[at], vc));
      }
    }
    sd = reduce_slices(r, sl, sd);

    let n_valid = min(tq, lq - it);
    var p: array<f32, TMAX>;
    var ds: array<f32, TMAX>;
    for (var i = 0u; i < tq; i++) {
      let x = masked(sd[i].x, mv, kj, off + it + i);
      let s = st[i];
      let pi = select(0.0, exp(x - s.x) * s.y, i < n_valid);
      p[i] = pi;
      ds[i] = select(0.0, pi * (sd[i].y - s.z), x > FMIN);
    }
    for (var c = 0u; c < d4; c++) {
      var a = av[c];
      var d = ak[c];
      for (var i = 0u; i < tq; i++) {
        let at = i * hd4 + d0 + c;
        a += p[i] * gs[at];
        d += ds[i] * qs[at];
      }
      av[c] = a;
      ak[c] = d;
    }
  }

  if (key_ok) {
    for (var c = 0u; c < d4; c++) {
      dk[rb + c] = ak[c];
      dv[rb + c] = av[c];
    }
  }
}
