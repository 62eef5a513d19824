// attention_decode: one query row per (b, h) (a decode step, Lq = 1) against lk keys, with the
// keys split into chunks of CH across workgroups ("flash decoding"), then a combine pass.
//   s[j] = scale * q[b,h,:] . k[b,h,j,:],  s = max(s + mask[b,j], FMIN) when has_mask
//   PHASE 0, chunk c: m_c = max_j s[j], l_c = sum_j exp(s[j] - m_c), a_c = sum_j exp(s[j] - m_c) v[j]
//            (direct = 1, a single chunk: out = a_c / l_c at once)
//   PHASE 1: M = max_c m_c, out = sum_c exp(m_c - M) a_c / sum_c exp(m_c - M) l_c
// FMIN is the float32 minimum (upstream's additive mask), so a fully masked row is uniform.
//
// q:    array<vec4<f32>>  [B, NH, 1, HD]
// k, v: array<vec4<f32>>  [B, NH, k_rows, HD]; rows 0..lk-1 are the keys
// mask: array<f32>        [B, mask_stride] (bound but unread when has_mask = 0)
// part: array<vec4<f32>>  [B*NH, nsplit, HD/4 + 1]: a_c, then (m_c, l_c, 0, 0); nsplit = ceil(lk / CH)
// out:  array<vec4<f32>>  [B, NH, 1, HD]
// Bindings and Params of the flash kernels (lib/attention_io.wgsl); lq (1) and causal (a single
// query is the last position) are not read.
// Dispatch: PHASE 0 (nsplit, NH, B) workgroups, PHASE 1 (1, NH, B); WG invocations each.
// PHASE 0: invocation lid scores keys lid, lid + WG, ... of its chunk (one K row each), keeping
// its own (max, sum of exp) pair, merged in one workgroup reduction (one reduction of pairs instead
// of a max then a sum: fewer barriers, each of which lavapipe's JIT pays for); for P.V
// invocation lid = g * HD4 + d4 sums dims d4 over keys g, g + G, ... and the G partials are added.

override HD: u32 = 64;
override PHASE: u32 = 0;
override WG: u32 = 64;
override CH: u32 = 256;
override HD4: u32 = HD / 4u;
override G: u32 = max(1u, WG / HD4);

// #include "lib/attention_io.wgsl"
// One workgroup reduction of (max, sum of exp(s - max)) pairs: the online-softmax merge.
alias WgItem = vec2<f32>;

fn wg_combine(a: vec2<f32>, b: vec2<f32>, op: u32) -> vec2<f32> {
  let m = max(a.x, b.x);
  return vec2<f32>(m, a.y * exp(a.x - m) + b.y * exp(b.x - m));
}

// #include "lib/wg_tree.wgsl"

@group(0) @binding(6) var<storage, read_write> part: array<vec4<f32>>;

var<workgroup> qs: array<vec4<f32>, HD4>;
var<workgroup> sc: array<f32, CH>;
var<workgroup> pacc: array<vec4<f32>, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let b = wid.z;
  let bh = b * params.nh + wid.y;
  let slot = HD4 + 1u;
  let nsplit = (params.lk + CH - 1u) / CH;
  let direct = nsplit == 1u;
  if (PHASE == 1u) {
    let pb = bh * nsplit * slot;
    var mx = FMIN;
    for (var c = 0u; c < nsplit; c++) {
      mx = max(mx, part[pb + c * slot + HD4].x);
    }
    var l = 0.0;
    for (var c = 0u; c < nsplit; c++) {
      let ml = part[pb + c * slot + HD4];
      l += exp(ml.x - mx) * ml.y;
    }
    for (var d4 = lid; d4 < HD4; d4 += WG) {
      var a = vec4<f32>(0.0);
      for (var c = 0u; c < nsplit; c++) {
        a += exp(part[pb + c * slot + HD4].x - mx) * part[pb + c * slot + d4];
      }
      out[bh * HD4 + d4] = a / l;
    }
    return;
  }

  let lk = params.lk;
  let start = wid.x * CH;
  let n = min(CH, lk - start);
  for (var c = lid; c < HD4; c += WG) {
    qs[c] = q[bh * HD4 + c] * params.scale;
  }
  workgroupBarrier();

  let kbase = (bh * params.k_rows + start) * HD4;
  var ml = vec2<f32>(FMIN, 0.0);
  for (var j = lid; j < n; j += WG) {
    let row = kbase + j * HD4;
    var s = 0.0;
    for (var c = 0u; c < HD4; c++) {
      s += dot(qs[c], k[row + c]);
    }
    if (params.has_mask != 0u) {
      s = max(s + mask[b * params.mask_stride + start + j], FMIN);
    }
    sc[j] = s;
    ml = wg_combine(ml, vec2<f32>(s, 1.0), 0u);
  }
  ml = wg_reduce(ml, lid, 0u);
  let m = ml.x;
  let l = ml.y;
  for (var j = lid; j < n; j += WG) {
    sc[j] = exp(sc[j] - m);
  }
  workgroupBarrier();

  let g = lid / HD4;
  let d4 = lid % HD4;
  for (var d0 = 0u; d0 < HD4; d0 += WG) {
    let d = d0 + d4;
    var a = vec4<f32>(0.0);
    if (g < G && d < HD4) {
      for (var j = g; j < n; j += G) {
        a += sc[j] * v[kbase + j * HD4 + d];
      }
    }
    pacc[lid] = a;
    workgroupBarrier();
    if (g == 0u && d < HD4) {
      for (var u = 1u; u < G; u++) {
        a += pacc[u * HD4 + d4];
      }
      if (direct) {
        out[bh * HD4 + d] = a / l;
      } else {
        part[(bh * nsplit + wid.x) * slot + d] = a;
      }
    }
    workgroupBarrier();
  }
  if (!direct && lid == 0u) {
    part[(bh * nsplit + wid.x) * slot + HD4] = vec4<f32>(m, l, 0.0, 0.0);
  }
}
