// Workgroup tree reductions of one f32 per invocation (log2(WG) halving steps, so the summation
// error grows with log2(WG), not with WG). The including shader declares `override WG: u32`
// (a power of two) and calls these from workgroup-uniform control flow (they contain barriers).
var<workgroup> wg_red: array<f32, WG>;

fn wg_sum(v: f32, lid: u32) -> f32 {
  wg_red[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) {
      wg_red[lid] += wg_red[lid + s];
    }
    workgroupBarrier();
  }
  let r = wg_red[0];
  workgroupBarrier();
  return r;
}

fn wg_max(v: f32, lid: u32) -> f32 {
  wg_red[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) {
      wg_red[lid] = max(wg_red[lid], wg_red[lid + s]);
    }
    workgroupBarrier();
  }
  let r = wg_red[0];
  workgroupBarrier();
  return r;
}
