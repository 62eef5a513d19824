// attention_backward_sg_dkv: dk and dv of the flash-attention backward for HD <= 64 on adapters
// with subgroups of >= 8 (attention_backward_dkv.wgsl otherwise), one key row per lane sweeping
// the queries with the row statistics of attention_backward_sg_dq.wgsl (layout:
// lib/attention_backward_sg.wgsl):
//   s[i,j] = scale * q_i . k_j masked as the forward; P = exp(s - m_i) / l_i; dP = gOut_i . v_j
//   dv_j = sum_i P[i,j] gOut_i;  dk_j = scale * sum_i dS[i,j] q_i,  dS = P (dP - D_i), 0 where s = FMIN
// Queries run ascending: the same bits every run.
//
// q, g (= dL/dout): array<vec4<f32>>  [B, NH, lq, HD]
// k, v, dk, dv:     array<vec4<f32>>  [B, NH, lk, HD]
// stats:            array<vec4<f32>>  [B, NH, lq]  (m_i, 1 / l_i, D_i, -)
// mask:             array<f32>        [B, mask_stride] additive (unread when has_mask = 0)
// Dispatch: (ceil(lk / 8), NH, B) workgroups of 8; invocation lid owns key row 8 wid.x + lid.
// Without a key mask, causal workgroups start at the first query that sees any of their keys.

enable subgroups;

// #include "lib/attention_backward_sg.wgsl"

@group(0) @binding(3) var<storage, read> g: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> stats: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read_write> dk: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read_write> dv: array<vec4<f32>>;

@compute @workgroup_size(8)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32,
        @builtin(subgroup_invocation_id) lane: u32) {
  let b = wid.z;
  let bh = b * params.nh + wid.y;
  let lq = params.lq;
  let lk = params.lk;
  let k0 = wid.x * 8u;
  let kj = k0 + lid;
  let off = lk - lq;

  let rb = (bh * lk + min(kj, lk - 1u)) * HD4;
  var kv: array<vec4<f32>, ROW4MAX>;  // this lane's k and v row
  var vv: array<vec4<f32>, ROW4MAX>;
  for (var c = 0u; c < HD4; c++) {
    kv[c] = k[rb + c];
    vv[c] = v[rb + c];
  }
  var ak: array<vec4<f32>, ROW4MAX>;  // dk, dv accumulators, zero-initialised
  var av: array<vec4<f32>, ROW4MAX>;
  let mv = key_mask(b, kj);
  let i_begin = causal_query_begin(k0);
  let qbase = bh * lq * HD4;
  for (var i = i_begin; i < lq; i++) {
    let s = row_slices(qbase + i * HD4, lane);
    let qr = spread_row(q[s.x], q[s.y], lane);
    let gr = spread_row(g[s.x], g[s.y], lane);
    let st = stats[bh * lq + i];
    var t = 0.0;
    var dp = 0.0;
    for (var c = 0u; c < HD4; c++) {
      t += dot(qr[c], kv[c]);
      dp += dot(gr[c], vv[c]);
    }
    let x = masked(t * params.scale, mv, kj, off + i);
    let p = exp(x - st.x) * st.y;
    let ds = select(0.0, p * (dp - st.z), x > FMIN);
    for (var c = 0u; c < HD4; c++) {
      av[c] = fma(vec4<f32>(p), gr[c], av[c]);
      ak[c] = fma(vec4<f32>(ds), qr[c], ak[c]);
    }
  }

  if (kj < lk) {
    for (var c = 0u; c < HD4; c++) {
      dk[rb + c] = ak[c] * params.scale;
      dv[rb + c] = av[c];
    }
  }
}
