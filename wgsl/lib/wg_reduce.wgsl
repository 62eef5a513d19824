// Workgroup reductions of one f32 per invocation; every invocation gets the result. A radix-16
// tree: 2 barriers for WG <= 256 (on lavapipe each barrier switches through every SIMD group of
// the workgroup, so a binary tree's log2(WG) barriers cost more). Fixed order (16 consecutive
// partials in index order, then the WG / 16 group results in order): the same bits on every run.
// Safe to call back to back: wg_red is only rewritten after every invocation has passed the barrier
// that follows its last read, and likewise wg_red2. The including shader declares
// `override WG: u32` (a power of two, at most 256) and calls these from workgroup-uniform control
// flow (they contain barriers).
const WG_RADIX: u32 = 16u;
var<workgroup> wg_red: array<f32, WG>;
var<workgroup> wg_red2: array<f32, 16>;

fn wg_sum(v: f32, lid: u32) -> f32 {
  let radix = min(WG_RADIX, WG);
  wg_red[lid] = v;
  workgroupBarrier();
  if (lid < WG / radix) {
    var p = wg_red[lid * radix];
    for (var k = 1u; k < radix; k++) {
      p += wg_red[lid * radix + k];
    }
    wg_red2[lid] = p;
  }
  workgroupBarrier();
  var total = wg_red2[0];
  for (var k = 1u; k < WG / radix; k++) {
    total += wg_red2[k];
  }
  return total;
}

fn wg_max(v: f32, lid: u32) -> f32 {
  let radix = min(WG_RADIX, WG);
  wg_red[lid] = v;
  workgroupBarrier();
  if (lid < WG / radix) {
    var p = wg_red[lid * radix];
    for (var k = 1u; k < radix; k++) {
      p = max(p, wg_red[lid * radix + k]);
    }
    wg_red2[lid] = p;
  }
  workgroupBarrier();
  var total = wg_red2[0];
  for (var k = 1u; k < WG / radix; k++) {
    total = max(total, wg_red2[k]);
  }
  return total;
}
