// sampling: one token id per row of logits x [rows, v]: argmax (greedy) or a multinomial draw
// from softmax(x / temperature) restricted by top-k and top-p (HF order: temperature, top-k,
// top-p). The draw is Gumbel-max: token = argmax_i z_i + g_i over the kept set, with
// z = x * inv_temp and g_i = -log(-log(u_i)), which picks i with probability softmax(z)_i over
// that set. u_i comes from a counter-based hash (pcg4d) of (i, row, step, seed): the same seed
// and step give the same token, on any GPU and in the CPU reference.
// Kept set = { i : key(z_i) >= thr }, key the order-preserving u32 image of an f32:
//   top-k: thr_k = the largest key with count(key >= thr_k) >= k (ties at the k-th value kept);
//   top-p: on the top-k set, masses q_i = floor(exp(z_i - max z) * 2^30 / S) (u32 fixed point,
//          so the search is exact integer work); thr = the largest key with
//          sum(q over key >= thr) >= max(1, floor(top_p * sum q)): a token survives iff the
//          mass strictly above it is < top_p (HF's rule, ties kept together).
// Both thresholds are found by a 4-pass radix select (8 bits per pass, a 256-bin histogram in
// workgroup memory), so the vocabulary is never sorted.
//
// x:   array<f32>  [rows, v]
// out: array<i32>  [rows]   (ties: lowest index; NaN logits give an unspecified token)
// One workgroup per row, rows folded into (x, y) with foldGrid.

// #include "lib/grid.wgsl"

// WG >= 256: each invocation clears one histogram bin.
override WG: u32 = 256;
// Argmax only: the sampling paths (4-pass radix selects, each pass behind workgroup barriers)
// fold away, which lavapipe JIT-compiles several times faster.
override GREEDY: bool = false;

// #include "lib/wg_reduce.wgsl"

struct Params {
  rows: u32,
  v: u32,
  seed: u32,
  step: u32,
  inv_temp: f32,
  top_k: u32,
  top_p: f32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<i32>;
@group(0) @binding(2) var<uniform> params: Params;

var<workgroup> hist: array<atomic<u32>, 256>;
var<workgroup> sel_prefix: u32;
var<workgroup> sel_above: u32;
var<workgroup> sel_target: u32;
var<workgroup> sel_floor: u32;
var<workgroup> best_score: array<f32, WG>;
var<workgroup> best_index: array<u32, WG>;

const NONE = 0xffffffffu;
const NEG_INF = -0x1.fffffep+127f;

// Order-preserving map f32 -> u32 (negative floats reversed, positive ones above them).
fn key(f: f32) -> u32 {
  let b = bitcast<u32>(f);
  return select(b | 0x80000000u, ~b, (b & 0x80000000u) != 0u);
}

// Jarzynski & Olano, "Hash Functions for GPU Rendering" (JCGT 2020), pcg4d.
fn pcg4d(a: vec4<u32>) -> vec4<u32> {
  var v = a * 1664525u + 1013904223u;
  v.x += v.y * v.w;
  v.y += v.z * v.x;
  v.z += v.x * v.y;
  v.w += v.y * v.z;
  v ^= v >> vec4<u32>(16u);
  v.x += v.y * v.w;
  v.y += v.z * v.x;
  v.z += v.x * v.y;
  v.w += v.y * v.z;
  return v;
}

fn gumbel(i: u32, row: u32) -> f32 {
  let h = pcg4d(vec4<u32>(i, row, params.step, params.seed)).x;
  let u = (f32(h >> 8u) + 0.5) * 0x1p-24f;
  return -log(-log(u));
}

// The largest key t with sum(weight over key >= t, key >= floor_key) >= target, where the
// weight is 1 (mass_scale == 0) or floor(exp(z - m) * mass_scale). target == 0 means
// "floor(top_p * total weight)", resolved after the first histogram.
fn radix_select(base: u32, lid: u32, floor_key: u32, m: f32, mass_scale: f32, want: u32) -> u32 {
  if (lid == 0u) {
    sel_prefix = 0u;
    sel_above = 0u;
    sel_target = want;
  }
  for (var shift = 24i; shift >= 0i; shift -= 8i) {
    atomicStore(&hist[lid % 256u], 0u);
    workgroupBarrier();
    let prefix = sel_prefix;
    let s = u32(shift);
    // Bits above the current digit must equal the prefix chosen so far (none at shift 24).
    let hi_mask = select(0xffffffffu << (s + 8u), 0u, s == 24u);
    for (var i = lid; i < params.v; i += WG) {
      let z = x[base + i] * params.inv_temp;
      let k = key(z);
      if (k >= floor_key && (k & hi_mask) == prefix) {
        var w = 1u;
        if (mass_scale > 0.0) {
          w = u32(exp(z - m) * mass_scale);
        }
        atomicAdd(&hist[(k >> s) & 255u], w);
      }
    }
    workgroupBarrier();
    if (lid == 0u) {
      if (sel_target == 0u) {
        var total = 0u;
        for (var b = 0u; b < 256u; b++) {
          total += atomicLoad(&hist[b]);
        }
        sel_target = max(1u, u32(params.top_p * f32(total)));
      }
      var above = sel_above;
      for (var b = 255i; b >= 0i; b--) {
        let c = atomicLoad(&hist[b]);
        if (above + c >= sel_target) {
          sel_prefix = prefix | (u32(b) << s);
          break;
        }
        above += c;
      }
      sel_above = above;
    }
    workgroupBarrier();
  }
  return workgroupUniformLoad(&sel_prefix);
}

// A lower bound on the k-th largest z for k <= WG: the k-th largest of the per-invocation
// maxima (at least k elements reach it). Histograms then skip everything below it, so top-k's
// first radix pass does a few hundred atomics instead of one per vocabulary entry.
fn top_k_floor(base: u32, lid: u32) -> u32 {
  if (params.top_k > WG) {
    return 0u;
  }
  var lm = NEG_INF;
  for (var i = lid; i < params.v; i += WG) {
    lm = max(lm, x[base + i] * params.inv_temp);
  }
  best_score[lid] = lm;
  workgroupBarrier();
  // Rank among the maxima, ties broken by invocation index, so exactly one invocation has rank k-1.
  var rank = 0u;
  for (var j = 0u; j < WG; j++) {
    let o = best_score[j];
    rank += select(0u, 1u, o > lm || (o == lm && j < lid));
  }
  if (rank == params.top_k - 1u) {
    sel_floor = key(lm);
  }
  return workgroupUniformLoad(&sel_floor);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let row = flat_workgroup(wid, nwg);
  if (row >= params.rows) {
    return;
  }
  let base = row * params.v;
  let sampling = !GREEDY;
  var thr = 0u;
  if (sampling && params.top_k > 0u && params.top_k < params.v) {
    thr = radix_select(base, lid, top_k_floor(base, lid), 0.0, 0.0, params.top_k);
  }
  if (sampling && params.top_p < 1.0) {
    var m = NEG_INF;
    for (var i = lid; i < params.v; i += WG) {
      m = max(m, x[base + i] * params.inv_temp);
    }
    m = wg_max(m, lid);
    var s = 0.0;
    for (var i = lid; i < params.v; i += WG) {
      let z = x[base + i] * params.inv_temp;
      if (key(z) >= thr) {
        s += exp(z - m);
      }
    }
    s = wg_sum(s, lid);
    thr = radix_select(base, lid, thr, m, 0x1p30f / s, 0u);
  }
  var best = 0.0;
  var idx = NONE;
  for (var i = lid; i < params.v; i += WG) {
    let z = x[base + i] * params.inv_temp;
    if (sampling && key(z) < thr) {
      continue;
    }
    let score = select(z, z + gumbel(i, row), sampling);
    // Strictly greater: within one invocation i ascends, so ties keep the lowest index.
    if (idx == NONE || score > best) {
      best = score;
      idx = i;
    }
  }
  best_score[lid] = best;
  best_index[lid] = idx;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) {
      let o = best_score[lid + s];
      let oi = best_index[lid + s];
      let bi = best_index[lid];
      if (oi != NONE && (bi == NONE || o > best_score[lid] || (o == best_score[lid] && oi < bi))) {
        best_score[lid] = o;
        best_index[lid] = oi;
      }
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    out[row] = bitcast<i32>(best_index[0]);
  }
}
