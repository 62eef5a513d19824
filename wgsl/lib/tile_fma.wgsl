// The FMA step of a register tile (the packed GEMMs, vq_lookup_sg): acc[(c RN + i) RM + j] holds
// (row slot j, column c RN + i); RM and RN are the including shader's.

// Adds w4[i] v[j] to the accumulators of columns c RN + 4 i4 + i, i < 4, of every row slot j < RM.
fn tile_fma(acc: ptr<function, array<f32, 256>>, c: u32, i4: u32, w4: vec4<f32>, v: array<f32, 16>) {
  for (var i = 0u; i < 4u; i++) {
    let e0 = (c * RN + i4 * 4u + i) * RM;
    for (var j = 0u; j < RM; j++) {
      (*acc)[e0 + j] = fma(w4[i], v[j], (*acc)[e0 + j]);
    }
  }
}
