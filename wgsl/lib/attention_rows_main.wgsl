// The body of attention_rows.wgsl (R = 4 query rows per invocation) and attention_rows_r1.wgsl
// (R = 1): the including shader enables subgroups and declares `const R: u32`.

// Keys per softmax rescale (one per lane for the mask broadcast).
const TK = 8u;

// #include "lib/spread16.wgsl"
// #include "lib/attention_io.wgsl"

// Lane L's x, for L < 8, given to every lane.
fn spread1(x: f32) -> array<f32, 8> {
  return array<f32, 8>(
    subgroupBroadcast(x, 0u), subgroupBroadcast(x, 1u), subgroupBroadcast(x, 2u), subgroupBroadcast(x, 3u),
    subgroupBroadcast(x, 4u), subgroupBroadcast(x, 5u), subgroupBroadcast(x, 6u), subgroupBroadcast(x, 7u));
}

// Slice c of row `row` (a vec4 index) of k or v, zero past the head dim. Two functions, not one
// taking a storage pointer: that needs the unrestricted_pointer_parameters language extension.
fn k_slice(row: u32, c: u32) -> vec4<f32> {
  return select(vec4<f32>(0.0), k[row + min(c, HD4 - 1u)], c < HD4);
}

fn v_slice(row: u32, c: u32) -> vec4<f32> {
  return select(vec4<f32>(0.0), v[row + min(c, HD4 - 1u)], c < HD4);
}

@compute @workgroup_size(8)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32,
        @builtin(subgroup_invocation_id) lane: u32) {
  let b = wid.z;
  let bh = b * params.nh + wid.y;
  let lq = params.lq;
  let lk = params.lk;
  let q0 = wid.x * 8u * R;
  let off = lk - lq;

  var qv: array<vec4<f32>, R * 16u>;
  var acc: array<vec4<f32>, R * 16u>;
  var m: array<f32, R>;
  var l: array<f32, R>;
  for (var r = 0u; r < R; r++) {
    let qb = (bh * lq + min(q0 + lid + 8u * r, lq - 1u)) * HD4;
    for (var c = 0u; c < params.hd4; c++) {
      qv[r * 16u + c] = q[qb + c] * params.scale;
      acc[r * 16u + c] = vec4<f32>(0.0);
    }
    m[r] = FMIN;
    l[r] = 0.0;
  }

  var k_end = lk;
  if (params.causal != 0u && params.has_mask == 0u) {
    k_end = min(lk, off + q0 + 8u * R);
  }
  let kbase = bh * params.k_rows * HD4;
  for (var kt = 0u; kt < k_end; kt += TK) {
    let n_valid = min(TK, lk - kt);
    // Without a mask the binding is a stand-in (q): never read it.
    var mine = 0.0;
    if (params.has_mask != 0u) {
      mine = mask[b * params.mask_stride + min(kt + lane, lk - 1u)];
    }
    let ms = spread1(mine);
    var s: array<f32, R * TK>;
    for (var j = 0u; j < TK; j++) {
      let row = kbase + min(kt + j, lk - 1u) * HD4;
      let kr = spread(k_slice(row, lane), k_slice(row, lane + 8u));
      for (var r = 0u; r < R; r++) {
        var t = 0.0;
        for (var c = 0u; c < HD4; c++) {
          t += dot(qv[r * 16u + c], kr[c]);
        }
        s[r * TK + j] = t;
      }
    }
    for (var r = 0u; r < R; r++) {
      let qi = q0 + lid + 8u * r;
      var mt = m[r];
      for (var j = 0u; j < TK; j++) {
        var x = s[r * TK + j];
        x = select(x, max(x + ms[j], FMIN), params.has_mask != 0u);
        x = select(x, FMIN, params.causal != 0u && kt + j > off + qi);
        s[r * TK + j] = x;
        mt = select(mt, max(mt, x), j < n_valid);
      }
      let alpha = exp(m[r] - mt);
      m[r] = mt;
      var psum = 0.0;
      for (var j = 0u; j < TK; j++) {
        let p = select(0.0, exp(s[r * TK + j] - mt), j < n_valid);
        s[r * TK + j] = p;
        psum += p;
      }
      l[r] = l[r] * alpha + psum;
      for (var c = 0u; c < HD4; c++) {
        acc[r * 16u + c] *= alpha;
      }
    }
    for (var j = 0u; j < TK; j++) {
      let row = kbase + min(kt + j, lk - 1u) * HD4;
      let vr = spread(v_slice(row, lane), v_slice(row, lane + 8u));
      for (var r = 0u; r < R; r++) {
        let p = s[r * TK + j];
        for (var c = 0u; c < HD4; c++) {
          acc[r * 16u + c] = fma(vec4<f32>(p), vr[c], acc[r * 16u + c]);
        }
      }
    }
  }

  for (var r = 0u; r < R; r++) {
    let qi = q0 + lid + 8u * r;
    if (qi < lq) {
      let inv = 1.0 / l[r];
      let ob = (bh * lq + qi) * HD4;
      for (var c = 0u; c < params.hd4; c++) {
        out[ob + c] = acc[r * 16u + c] * inv;
      }
    }
  }
}
