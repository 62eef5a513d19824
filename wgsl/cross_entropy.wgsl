// cross_entropy: fused softmax cross-entropy (torch F.cross_entropy with ignore_index), three modes
// recorded in this order (MODE is an override, so each is its own pipeline):
//   MODE 0 count: stats[0] = #{r : targets[r] != ignore_index}                (one workgroup)
//   MODE 1 rows:  per row r with target t (one workgroup per row of the bound chunk):
//                   per_row[r] = logsumexp(x_r) - x_r[t] = (m - x_r[t]) + log(sum_j e^(x_rj - m))
//                   GRAD: dlogits[r, j] = (e^(x_rj - m) / sum - [j == t]) * w,  w = 1 / stats[0] (mean) or 1
//                 ignored rows (t == ignore_index): per_row 0 and, with GRAD, a zero dlogits row;
//                 t outside [0, v) otherwise: NaN (the loss then is NaN too: the error is not silent)
//   MODE 2 loss:  loss[0] = sum_r per_row[r], divided by stats[0] for the mean (NaN when it is 0,
//                 as torch)                                                   (one workgroup)
// Every reduction is a per-invocation sequential sum over a fixed stride plus a tree: the same
// bits on every run. The row max and sum come from one read of the row (an online logsumexp per
// invocation, rescaled to the workgroup max before the tree); GRAD reads the row a second time.
//
// logits:  array<f32>  [rows, v]  rows row0 .. row0 + rows - 1 of the [r_total, v] logits
// targets: array<i32>  [r_total]
// dlogits: array<f32>  [rows, v]  the same rows of the [r_total, v] gradient (GRAD; else a stand-in)
// per_row: array<f32>  [r_total]
// stats:   array<u32>  [1]        the valid-row count
// loss:    array<f32>  [1]
// Dispatch: MODE 1 `rows` workgroups folded into (x, y); MODE 0 and 2 one workgroup.

// #include "lib/grid.wgsl"

override WG: u32 = 32;
override MODE: u32 = 1;
override GRAD: bool = true;

// #include "lib/wg_reduce.wgsl"

struct Params {
  rows: u32,
  row0: u32,
  r_total: u32,
  v: u32,
  ignore_index: i32,
  mean: u32,
}

@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read> targets: array<i32>;
@group(0) @binding(2) var<storage, read_write> dlogits: array<f32>;
@group(0) @binding(3) var<storage, read_write> per_row: array<f32>;
@group(0) @binding(4) var<storage, read_write> stats: array<u32>;
@group(0) @binding(5) var<storage, read_write> loss: array<f32>;
@group(0) @binding(6) var<uniform> params: Params;

// The most negative finite f32 (WGSL constants cannot be infinite): the running max's start.
const NEG_INF = -0x1.fffffep+127f;

// NaN from a runtime value (const-evaluation rejects a NaN constant).
fn nan() -> f32 {
  return bitcast<f32>(0x7fc00000u | (params.v & 0u));
}

// An f32 sum of counts: exact, the host allows at most 2^24 rows.
fn count_valid(lid: u32) {
  var c = 0.0;
  for (var r = lid; r < params.r_total; r += WG) {
    c += select(0.0, 1.0, targets[r] != params.ignore_index);
  }
  let total = wg_sum(c, lid);
  if (lid == 0u) {
    stats[0] = u32(total);
  }
}

fn reduce_loss(lid: u32) {
  var s = 0.0;
  for (var r = lid; r < params.r_total; r += WG) {
    s += per_row[r];
  }
  let total = wg_sum(s, lid);
  if (lid == 0u) {
    let n = stats[0];
    loss[0] = select(total, select(total / f32(n), nan(), n == 0u), params.mean != 0u);
  }
}

fn row_loss(local: u32, lid: u32) {
  let row = params.row0 + local;
  let v = params.v;
  let base = local * v;
  let t = targets[row];
  if (t == params.ignore_index || t < 0 || u32(t) >= v) {
    let fill = select(nan(), 0.0, t == params.ignore_index);
    if (lid == 0u) {
      per_row[row] = fill;
    }
    if (GRAD) {
      for (var i = lid; i < v; i += WG) {
        dlogits[base + i] = fill;
      }
    }
    return;
  }
  var m = NEG_INF;
  var s = 0.0;
  for (var i = lid; i < v; i += WG) {
    let x = logits[base + i];
    if (x > m) {
      s = fma(s, exp(m - x), 1.0);
      m = x;
    } else {
      s += exp(x - m);
    }
  }
  let mx = wg_max(m, lid);
  let sum = wg_sum(s * exp(m - mx), lid);
  if (lid == 0u) {
    per_row[row] = (mx - logits[base + u32(t)]) + log(sum);
  }
  if (GRAD) {
    let inv = 1.0 / sum;
    let w = select(1.0, 1.0 / f32(stats[0]), params.mean != 0u);
    for (var i = lid; i < v; i += WG) {
      let p = exp(logits[base + i] - mx) * inv;
      dlogits[base + i] = (p - select(0.0, 1.0, i == u32(t))) * w;
    }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  if (MODE == 0u) {
    count_valid(lid);
  } else if (MODE == 2u) {
    reduce_loss(lid);
  } else {
    let local = flat_workgroup(wid, nwg);
    if (local < params.rows) {
      row_loss(local, lid);
    }
  }
}
