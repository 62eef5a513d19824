// Workgroup sum of one vec2<f32> per invocation (two row sums at once), by lib/wg_tree.wgsl's tree.
alias WgItem = vec2<f32>;

fn wg_combine(a: vec2<f32>, b: vec2<f32>, op: u32) -> vec2<f32> {
  return a + b;
}

// #include "lib/wg_tree.wgsl"

fn wg_sum2(v: vec2<f32>, lid: u32) -> vec2<f32> {
  return wg_reduce(v, lid, 0u);
}
