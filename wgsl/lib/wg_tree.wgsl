// One workgroup reduction of one WgItem per invocation; every invocation gets the result. A
// radix-16 tree: 2 barriers for WG <= 256 (on lavapipe each barrier switches through every SIMD
// group of the workgroup, so a binary tree's log2(WG) barriers cost more). Fixed order (16
// consecutive partials in index order, then the WG / 16 group results in order): the same bits on
// every run. Safe to call back to back: wg_red is only rewritten after every invocation has passed
// the barrier that follows its last read, and likewise wg_red2.
// The including shader declares `override WG: u32` (a power of two, at most 256), `alias WgItem`
// and `fn wg_combine(a: WgItem, b: WgItem, op: u32) -> WgItem` (op picks the operation where a
// shader has several), and calls wg_reduce from workgroup-uniform control flow (it has barriers).
const WG_RADIX: u32 = 16u;
var<workgroup> wg_red: array<WgItem, WG>;
var<workgroup> wg_red2: array<WgItem, 16>;

fn wg_reduce(v: WgItem, lid: u32, op: u32) -> WgItem {
  let radix = min(WG_RADIX, WG);
  wg_red[lid] = v;
  workgroupBarrier();
  if (lid < WG / radix) {
    var p = wg_red[lid * radix];
    for (var k = 1u; k < radix; k++) {
      p = wg_combine(p, wg_red[lid * radix + k], op);
    }
    wg_red2[lid] = p;
  }
  workgroupBarrier();
  var total = wg_red2[0];
  for (var k = 1u; k < WG / radix; k++) {
    total = wg_combine(total, wg_red2[k], op);
  }
  return total;
}
