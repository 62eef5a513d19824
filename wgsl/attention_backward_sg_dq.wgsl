// attention_backward_sg_dq: dq and the row statistics of the flash-attention backward for HD <= 64
// on adapters with subgroups of >= 8 (attention_backward_dq.wgsl otherwise), in one sweep over the
// keys (layout: lib/attention_backward_sg.wgsl):
//   s[i,j] = scale * q_i . k_j masked as the forward; D_i = gOut_i . out_i; dP = gOut_i . v_j
//   online softmax: m = running max, l = running sum of exp(s - m), and
//   acc = sum_j exp(s[i,j] - m) (dP[i,j] - D_i) k_j (0 where s = FMIN), rescaled when m grows
//   dq_i = scale * acc / l;  stats[i] = (m, 1 / l, D_i, 0) for attention_backward_sg_dkv.wgsl
// Keys run ascending: the same bits every run. s is computed as in the dkv kernel (same dots in
// the same order, then scale), so P there uses exactly this m and l.
//
// q, out, g (= dL/dout), dq: array<vec4<f32>>  [B, NH, lq, HD]
// k, v:                      array<vec4<f32>>  [B, NH, lk, HD]
// mask:                      array<f32>        [B, mask_stride] additive (unread when has_mask = 0)
// stats:                     array<vec4<f32>>  [B, NH, lq]
// Dispatch: (ceil(lq / 8), NH, B) workgroups of 8; invocation lid owns query row 8 wid.x + lid.
// Without a key mask, causal workgroups stop at the last key any of their rows can see.

enable subgroups;

// #include "lib/attention_backward_sg.wgsl"

@group(0) @binding(3) var<storage, read> out: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> g: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read_write> dq: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read_write> stats: array<vec4<f32>>;

@compute @workgroup_size(8)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32,
        @builtin(subgroup_invocation_id) lane: u32) {
  let b = wid.z;
  let bh = b * params.nh + wid.y;
  let lq = params.lq;
  let lk = params.lk;
  let q0 = wid.x * 8u;
  let qi = q0 + lid;
  let qpos = lk - lq + qi;

  let rb = (bh * lq + min(qi, lq - 1u)) * HD4;
  var qv: array<vec4<f32>, ROW4MAX>;  // this lane's q and gOut row
  var gv: array<vec4<f32>, ROW4MAX>;
  for (var c = 0u; c < HD4; c++) {
    qv[c] = q[rb + c];
    gv[c] = g[rb + c];
  }
  var acc: array<vec4<f32>, ROW4MAX>;  // zero-initialised
  var dd = 0.0;
  for (var c = 0u; c < HD4; c++) {
    dd += dot(gv[c], out[rb + c]);
  }

  let k_end = causal_key_end(q0, 8u);
  let kbase = bh * lk * HD4;
  var m = FMIN;
  var l = 0.0;
  for (var j = 0u; j < k_end; j++) {
    let s = row_slices(kbase + j * HD4, lane);
    let kr = spread_row(k[s.x], k[s.y], lane);
    let vr = spread_row(v[s.x], v[s.y], lane);
    var t = 0.0;
    var dp = 0.0;
    for (var c = 0u; c < HD4; c++) {
      t += dot(qv[c], kr[c]);
      dp += dot(gv[c], vr[c]);
    }
    let x = masked(t * params.scale, key_mask(b, j), j, qpos);
    let mn = max(m, x);
    let alpha = exp(m - mn);
    let p = exp(x - mn);
    l = l * alpha + p;
    m = mn;
    let ds = select(0.0, p * (dp - dd), x > FMIN);
    for (var c = 0u; c < HD4; c++) {
      acc[c] = fma(vec4<f32>(ds), kr[c], acc[c] * alpha);
    }
  }

  if (qi < lq) {
    let inv_l = 1.0 / l;
    stats[bh * lq + qi] = vec4<f32>(m, inv_l, dd, 0.0);
    let f = params.scale * inv_l;
    for (var c = 0u; c < HD4; c++) {
      dq[rb + c] = acc[c] * f;
    }
  }
}
