// attention_rows: flash prefill for HD <= 64, laid out for CPU SIMD lanes (the fast path of the
// attention family; attention.wgsl serves HD > 64 and adapters without subgroups).
//   out[b,h,i,:] = sum_j softmax_j(s[i,j]) v[b,h,j,:],  s[i,j] = scale * q[b,h,i,:] . k[b,h,j,:]
//   causal: s = FMIN where j > off + i, off = lk - lq;  mask: s = max(s + mask[b,j], FMIN)
// FMIN is the float32 minimum, as upstream adds it: a fully masked row is a finite uniform average.
// Online softmax in f32 per row (running max m, sum l, output acc), rescaled once per TK keys.
//
// q:    array<vec4<f32>>  [B, NH, lq, HD]
// k, v: array<vec4<f32>>  [B, NH, k_rows, HD]; rows 0..lk-1 are the keys (k_rows >= lk: a KV cache)
// mask: array<f32>        [B, mask_stride] additive (bound but unread when has_mask = 0)
// out:  array<vec4<f32>>  [B, NH, lq, HD]
// Dispatch: (ceil(lq / (8 R)), NH, B) workgroups of 8 invocations (one subgroup; the host uses this
// kernel only when the adapter's subgroupMinSize >= 8). Invocation lid owns query rows
// q0 + lid + 8 r, r < R: their q (pre-scaled) and acc live in private arrays, R * HD floats each.
// Key slices and mask values are spread by subgroup lane (subgroup_invocation_id), since how
// local_invocation_index maps to lanes is unspecified.
// Why this shape: on lavapipe every load whose address is not a compile-time constant runs as a
// branchy loop over the 8 SIMD lanes, from storage and workgroup memory alike, so a per-lane vec4
// load costs ~100x an FMA. Each key row is therefore loaded once per subgroup, spread over the
// lanes (lane L holds 16-byte slices L and 8 + L), and handed to every lane with subgroupBroadcast
// (a register extract + splat); each broadcast value then feeds R rows' FMAs. Loops over TK, R and
// HD/4 have constant trip counts and index private arrays, so they are fully unrolled and the
// arrays become registers. R = 4 is the speed / LLVM compile-time balance: smaller R runs slower,
// while compile time grows with R * HD, paid once per HD: Mesa's shader cache keeps it (figures:
// bench/README.md, Design measurements: attention).

enable subgroups;

override HD: u32 = 64;

// Query rows per invocation.
const R = 4u;
// Keys per softmax rescale (one per lane for the mask broadcast).
const TK = 8u;
override HD4: u32 = HD / 4u;

// #include "lib/attention_io.wgsl"

// Slices 0..15 of a row, slice L of `a` and 8 + L of `b` held by lane L, given to every lane.
fn spread(a: vec4<f32>, b: vec4<f32>) -> array<vec4<f32>, 16> {
  return array<vec4<f32>, 16>(
    subgroupBroadcast(a, 0u), subgroupBroadcast(a, 1u), subgroupBroadcast(a, 2u), subgroupBroadcast(a, 3u),
    subgroupBroadcast(a, 4u), subgroupBroadcast(a, 5u), subgroupBroadcast(a, 6u), subgroupBroadcast(a, 7u),
    subgroupBroadcast(b, 0u), subgroupBroadcast(b, 1u), subgroupBroadcast(b, 2u), subgroupBroadcast(b, 3u),
    subgroupBroadcast(b, 4u), subgroupBroadcast(b, 5u), subgroupBroadcast(b, 6u), subgroupBroadcast(b, 7u));
}

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
    for (var c = 0u; c < HD4; c++) {
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
      for (var c = 0u; c < HD4; c++) {
        out[ob + c] = acc[r * 16u + c] * inv;
      }
    }
  }
}
