// Workgroup sum and max of one f32 per invocation (lib/wg_tree.wgsl's tree and its rules).
alias WgItem = f32;

fn wg_combine(a: f32, b: f32, op: u32) -> f32 {
  return select(a + b, max(a, b), op == 1u);
}

// #include "lib/wg_tree.wgsl"

fn wg_sum(v: f32, lid: u32) -> f32 {
  return wg_reduce(v, lid, 0u);
}

fn wg_max(v: f32, lid: u32) -> f32 {
  return wg_reduce(v, lid, 1u);
}
