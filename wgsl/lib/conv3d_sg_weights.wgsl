// conv3d_causal's subgroup weight loads (conv3d_causal_sg, _row4 and their f16 twins): lane L < 8
// loads weight vec4 L of the step; every lane gets all 8 (lib/spread8.wgsl).
fn weights_of(wk: u32, lane: u32) -> array<vec4<f32>, 8> {
  return spread8(wvec(wk + lane));
}

fn weight4(wl: array<vec4<f32>, 8>, wk: u32, i4: u32) -> vec4<f32> {
  return wl[i4];
}
