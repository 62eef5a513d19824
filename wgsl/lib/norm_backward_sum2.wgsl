// Workgroup sum of one vec2<f32> per invocation (two row sums at once); every invocation gets the
// total. A radix-16 tree (2 barriers for WG <= 256), as group_norm_stats and row_norm: on lavapipe
// each barrier switches through every SIMD group of the workgroup, so a binary tree costs more.
// Fixed order (16 consecutive partials in index order, then the WG / 16 sums in order): the same
// bits on every run. Safe to call back to back: sum2_part is only rewritten after every invocation
// has passed the barrier that follows its last read of it, and likewise for sum2_part2.
// The including shader declares `override WG: u32` (a power of two, 16..256) and calls this from
// workgroup-uniform control flow (it contains barriers).
const SUM2_RADIX: u32 = 16u;
var<workgroup> sum2_part: array<vec2<f32>, WG>;
var<workgroup> sum2_part2: array<vec2<f32>, 16>;

fn wg_sum2(v: vec2<f32>, lid: u32) -> vec2<f32> {
  sum2_part[lid] = v;
  workgroupBarrier();
  if (lid < WG / SUM2_RADIX) {
    var p = sum2_part[lid * SUM2_RADIX];
    for (var k = 1u; k < SUM2_RADIX; k++) {
      p += sum2_part[lid * SUM2_RADIX + k];
    }
    sum2_part2[lid] = p;
  }
  workgroupBarrier();
  var total = sum2_part2[0];
  for (var k = 1u; k < WG / SUM2_RADIX; k++) {
    total += sum2_part2[k];
  }
  return total;
}
