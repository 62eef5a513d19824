// Winograd F(m x m, 3x3) transforms (Lavin & Gray 2016) for the conv_winograd_* shaders, m = TILE
// (2, 4 or 6), alpha = TILE + 2 points; vectors are zero-padded to 8 (WVec). The including shader
// declares `override TILE: u32`. F(2x2): B^T, G, A^T as in the paper; F(4x4): the points 0, +-1,
// +-2, inf; F(6x6): 0, +-1, +-2, +-1/2, inf (wincnn's matrices, checked exactly in rationals).
alias WVec = array<f32, 8>;

const G2 = array<array<f32, 3>, 8>(
  array<f32, 3>(1.0, 0.0, 0.0),
  array<f32, 3>(0.5, 0.5, 0.5),
  array<f32, 3>(0.5, -0.5, 0.5),
  array<f32, 3>(0.0, 0.0, 1.0),
  array<f32, 3>(0.0, 0.0, 0.0),
  array<f32, 3>(0.0, 0.0, 0.0),
  array<f32, 3>(0.0, 0.0, 0.0),
  array<f32, 3>(0.0, 0.0, 0.0),
);
const G4 = array<array<f32, 3>, 8>(
  array<f32, 3>(1.0 / 4.0, 0.0, 0.0),
  array<f32, 3>(-1.0 / 6.0, -1.0 / 6.0, -1.0 / 6.0),
  array<f32, 3>(-1.0 / 6.0, 1.0 / 6.0, -1.0 / 6.0),
  array<f32, 3>(1.0 / 24.0, 1.0 / 12.0, 1.0 / 6.0),
  array<f32, 3>(1.0 / 24.0, -1.0 / 12.0, 1.0 / 6.0),
  array<f32, 3>(0.0, 0.0, 1.0),
  array<f32, 3>(0.0, 0.0, 0.0),
  array<f32, 3>(0.0, 0.0, 0.0),
);
const G6 = array<array<f32, 3>, 8>(
  array<f32, 3>(1.0, 0.0, 0.0),
  array<f32, 3>(-2.0 / 9.0, -2.0 / 9.0, -2.0 / 9.0),
  array<f32, 3>(-2.0 / 9.0, 2.0 / 9.0, -2.0 / 9.0),
  array<f32, 3>(1.0 / 90.0, 1.0 / 45.0, 2.0 / 45.0),
  array<f32, 3>(1.0 / 90.0, -1.0 / 45.0, 2.0 / 45.0),
  array<f32, 3>(32.0 / 45.0, 16.0 / 45.0, 8.0 / 45.0),
  array<f32, 3>(32.0 / 45.0, -16.0 / 45.0, 8.0 / 45.0),
  array<f32, 3>(0.0, 0.0, 1.0),
);

// B^T z of one alpha-vector z (a column or row of an input patch) and A^T z (of an output
// transform's), written out so that no product with a zero entry is computed; F(6x6) pairs its
// rows as p +- q (NNPACK's factoring).
fn wino_bt_vec(z: WVec) -> WVec {
  if (TILE == 6u) {
    let p1 = z[2] - 4.25 * z[4] + z[6];
    let q1 = z[1] - 4.25 * z[3] + z[5];
    let p3 = 0.25 * z[2] - 1.25 * z[4] + z[6];
    let q3 = 0.5 * z[1] - 2.5 * z[3] + 2.0 * z[5];
    let p5 = 4.0 * z[2] - 5.0 * z[4] + z[6];
    let q5 = 2.0 * z[1] - 2.5 * z[3] + 0.5 * z[5];
    return WVec(z[0] - z[6] + 5.25 * (z[4] - z[2]), p1 + q1, p1 - q1, p3 + q3, p3 - q3, p5 + q5, p5 - q5, z[7] - z[1] + 5.25 * (z[3] - z[5]));
  }
  if (TILE == 4u) {
    return WVec(
      4.0 * z[0] - 5.0 * z[2] + z[4],
      -4.0 * z[1] - 4.0 * z[2] + z[3] + z[4],
      4.0 * z[1] - 4.0 * z[2] - z[3] + z[4],
      -2.0 * z[1] - z[2] + 2.0 * z[3] + z[4],
      2.0 * z[1] - z[2] - 2.0 * z[3] + z[4],
      4.0 * z[1] - 5.0 * z[3] + z[5],
      0.0, 0.0,
    );
  }
  return WVec(z[0] - z[2], z[1] + z[2], z[2] - z[1], z[1] - z[3], 0.0, 0.0, 0.0, 0.0);
}

fn wino_at_vec(z: WVec) -> array<f32, 6> {
  if (TILE == 6u) {
    let a = z[1] + z[2];
    let b = z[1] - z[2];
    let c = z[3] + z[4];
    let d = z[3] - z[4];
    let e = z[5] + z[6];
    let f = z[5] - z[6];
    return array<f32, 6>(z[0] + a + c + e, b + 2.0 * d + 0.5 * f, a + 4.0 * c + 0.25 * e, b + 8.0 * d + 0.125 * f, a + 16.0 * c + 0.0625 * e, b + 32.0 * d + 0.03125 * f + z[7]);
  }
  if (TILE == 4u) {
    return array<f32, 6>(
      z[0] + z[1] + z[2] + z[3] + z[4],
      z[1] - z[2] + 2.0 * z[3] - 2.0 * z[4],
      z[1] + z[2] + 4.0 * z[3] + 4.0 * z[4],
      z[1] - z[2] + 8.0 * z[3] - 8.0 * z[4] + z[5],
      0.0, 0.0,
    );
  }
  return array<f32, 6>(z[0] + z[1] + z[2], z[1] - z[2] - z[3], 0.0, 0.0, 0.0, 0.0);
}

fn wino_g(i: u32, j: u32) -> f32 {
  if (TILE == 6u) {
    return G6[i][j];
  }
  if (TILE == 4u) {
    return G4[i][j];
  }
  return G2[i][j];
}

// Tile p of the flat index (n th + ty) tw + tx as (image n, ty, tx).
fn wino_tile(p: u32, th: u32, tw: u32) -> vec3<u32> {
  let tiles = th * tw;
  return vec3(p / tiles, (p % tiles) / tw, p % tw);
}
