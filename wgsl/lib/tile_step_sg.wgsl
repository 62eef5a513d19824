// One k-step of the subgroup tile (matmul_packed_sg, vq_lookup_sg): 4 rows x 32 columns per lane,
// RM = 4, RN = 16, CB = 2. `w` is this lane's vec4 of the step's 32 packed columns (lane L: block
// L / 4, slot L % 4; spread to every lane), `a4` the lane's 4 rows' values at this k.
// #include "lib/spread8.wgsl"
// #include "lib/tile_fma.wgsl"

fn tile_step_sg(acc: ptr<function, array<f32, 256>>, w: vec4<f32>, a4: vec4<f32>) {
  let wl = spread8(w);
  var v: array<f32, 16>;
  v[0] = a4.x;
  v[1] = a4.y;
  v[2] = a4.z;
  v[3] = a4.w;
  for (var c = 0u; c < CB; c++) {
    for (var i4 = 0u; i4 < 4u; i4++) {
      tile_fma(acc, c, i4, wl[c * 4u + i4], v);
    }
  }
}
