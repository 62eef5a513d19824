// reduce: out[out_off + m] = sum over (o, i) of f(x[(o * mid + m) * inner + i]),
//   f(v) = v (SQUARE = false) or v * v (SQUARE = true), for x viewed as [outer, mid, inner].
// Elements at flat index >= params.total count as 0 (sumSquares' first pass views x [n] as
// [1, mid, inner] with mid * inner >= n).
//
// A workgroup of WG = R x C invocations owns C consecutive outputs m0 .. m0 + C - 1; lane
// (r, c) = (lid / C, lid % C) sums the terms j = r, r + R, r + 2R, ... of output m0 + c, with
// j = o * inner + i. C > 1 when inner is small (a bias gradient's [M, N, 1]): the C lanes of a
// row then read C neighbouring floats instead of one float per cache line.
// Each lane sums three levels (blocks of BLOCK terms, BLOCK blocks, then those sums), so no
// running sum takes more than BLOCK adds below 32 * 32 * 32 * R terms; the R lane sums of a
// column meet in a two-level tree (groups of G, then the group sums). Every order is fixed:
// the same bits every run.
//
// x:   array<f32>  [outer, mid, inner]
// out: array<f32>  [out_off + mid]  (only out_off .. out_off + mid - 1 are written)
// Dispatch: ceil(mid / C) workgroups, folded into (x, y). WG a power of two, C a power of two <= WG.

// #include "lib/grid.wgsl"

override WG: u32 = 64;
override C: u32 = 1;
override SQUARE: bool = false;

const BLOCK: u32 = 32u;
const G: u32 = 8u;

struct Params {
  outer: u32,
  mid: u32,
  inner: u32,
  total: u32,
  out_off: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

var<workgroup> part: array<f32, WG>;

fn term(idx: u32) -> f32 {
  if (idx >= params.total) {
    return 0.0;
  }
  let v = x[idx];
  if (SQUARE) {
    return v * v;
  }
  return v;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let m0 = flat_workgroup(wid, nwg) * C;
  if (m0 >= params.mid) {
    return;
  }
  let R = WG / C;
  let r = lid / C;
  let c = lid % C;
  let m = m0 + c;
  let inner = params.inner;
  let count = params.outer * inner;
  var s = 0.0;
  if (m < params.mid) {
    for (var s2 = r; s2 < count; s2 += R * BLOCK * BLOCK) {
      var sup = 0.0;
      let e2 = min(count, s2 + R * BLOCK * BLOCK);
      for (var s1 = s2; s1 < e2; s1 += R * BLOCK) {
        var blk = 0.0;
        let e1 = min(e2, s1 + R * BLOCK);
        for (var j = s1; j < e1; j += R) {
          let o = j / inner;
          blk += term((o * params.mid + m) * inner + (j - o * inner));
        }
        sup += blk;
      }
      s += sup;
    }
  }
  part[lid] = s;
  workgroupBarrier();
  // Level 1: lane rows r % g == 0 sum rows r .. r + g - 1 of their column.
  let g = min(G, R);
  var p = 0.0;
  if (r % g == 0u) {
    for (var k = 0u; k < g; k++) {
      p += part[(r + k) * C + c];
    }
  }
  workgroupBarrier();
  if (r % g == 0u) {
    part[lid] = p;
  }
  workgroupBarrier();
  // Level 2: row 0 sums the R / g group sums.
  if (r == 0u && m < params.mid) {
    var total = 0.0;
    for (var k = 0u; k < R; k += g) {
      total += part[k * C + c];
    }
    out[params.out_off + m] = total;
  }
}
