// Winograd F(m x m, 3x3) transform matrices (Lavin & Gray 2016) for the conv_winograd_* shaders,
// m = TILE (2 or 4), alpha = TILE + 2 points; zero-padded to 6 x 6. The including shader declares
// `override TILE: u32`. F(2x2): B^T, G, A^T as in the paper; F(4x4): the points 0, +-1, +-2, inf.
const BT2 = array<array<f32, 6>, 6>(
  array<f32, 6>(1.0, 0.0, -1.0, 0.0, 0.0, 0.0),
  array<f32, 6>(0.0, 1.0, 1.0, 0.0, 0.0, 0.0),
  array<f32, 6>(0.0, -1.0, 1.0, 0.0, 0.0, 0.0),
  array<f32, 6>(0.0, 1.0, 0.0, -1.0, 0.0, 0.0),
  array<f32, 6>(0.0, 0.0, 0.0, 0.0, 0.0, 0.0),
  array<f32, 6>(0.0, 0.0, 0.0, 0.0, 0.0, 0.0),
);
const BT4 = array<array<f32, 6>, 6>(
  array<f32, 6>(4.0, 0.0, -5.0, 0.0, 1.0, 0.0),
  array<f32, 6>(0.0, -4.0, -4.0, 1.0, 1.0, 0.0),
  array<f32, 6>(0.0, 4.0, -4.0, -1.0, 1.0, 0.0),
  array<f32, 6>(0.0, -2.0, -1.0, 2.0, 1.0, 0.0),
  array<f32, 6>(0.0, 2.0, -1.0, -2.0, 1.0, 0.0),
  array<f32, 6>(0.0, 4.0, 0.0, -5.0, 0.0, 1.0),
);
const G2 = array<array<f32, 3>, 6>(
  array<f32, 3>(1.0, 0.0, 0.0),
  array<f32, 3>(0.5, 0.5, 0.5),
  array<f32, 3>(0.5, -0.5, 0.5),
  array<f32, 3>(0.0, 0.0, 1.0),
  array<f32, 3>(0.0, 0.0, 0.0),
  array<f32, 3>(0.0, 0.0, 0.0),
);
const G4 = array<array<f32, 3>, 6>(
  array<f32, 3>(1.0 / 4.0, 0.0, 0.0),
  array<f32, 3>(-1.0 / 6.0, -1.0 / 6.0, -1.0 / 6.0),
  array<f32, 3>(-1.0 / 6.0, 1.0 / 6.0, -1.0 / 6.0),
  array<f32, 3>(1.0 / 24.0, 1.0 / 12.0, 1.0 / 6.0),
  array<f32, 3>(1.0 / 24.0, -1.0 / 12.0, 1.0 / 6.0),
  array<f32, 3>(0.0, 0.0, 1.0),
);
const AT2 = array<array<f32, 6>, 4>(
  array<f32, 6>(1.0, 1.0, 1.0, 0.0, 0.0, 0.0),
  array<f32, 6>(0.0, 1.0, -1.0, -1.0, 0.0, 0.0),
  array<f32, 6>(0.0, 0.0, 0.0, 0.0, 0.0, 0.0),
  array<f32, 6>(0.0, 0.0, 0.0, 0.0, 0.0, 0.0),
);
const AT4 = array<array<f32, 6>, 4>(
  array<f32, 6>(1.0, 1.0, 1.0, 1.0, 1.0, 0.0),
  array<f32, 6>(0.0, 1.0, -1.0, 2.0, -2.0, 0.0),
  array<f32, 6>(0.0, 1.0, 1.0, 4.0, 4.0, 0.0),
  array<f32, 6>(0.0, 1.0, -1.0, 8.0, -8.0, 1.0),
);

// B^T z of one alpha-vector z (a column or row of an input patch) and A^T z (of an output
// transform's), their matrices' rows written out so that no product with a zero entry is computed:
// F(2x2) as in the paper, F(4x4) with the points 0, +-1, +-2, inf.
fn wino_bt_vec(z: array<f32, 6>) -> array<f32, 6> {
  if (TILE == 4u) {
    return array<f32, 6>(
      4.0 * z[0] - 5.0 * z[2] + z[4],
      -4.0 * z[1] - 4.0 * z[2] + z[3] + z[4],
      4.0 * z[1] - 4.0 * z[2] - z[3] + z[4],
      -2.0 * z[1] - z[2] + 2.0 * z[3] + z[4],
      2.0 * z[1] - z[2] - 2.0 * z[3] + z[4],
      4.0 * z[1] - 5.0 * z[3] + z[5],
    );
  }
  return array<f32, 6>(z[0] - z[2], z[1] + z[2], z[2] - z[1], z[1] - z[3], 0.0, 0.0);
}

fn wino_at_vec(z: array<f32, 6>) -> array<f32, 4> {
  if (TILE == 4u) {
    return array<f32, 4>(
      z[0] + z[1] + z[2] + z[3] + z[4],
      z[1] - z[2] + 2.0 * z[3] - 2.0 * z[4],
      z[1] + z[2] + 4.0 * z[3] + 4.0 * z[4],
      z[1] - z[2] + 8.0 * z[3] - 8.0 * z[4] + z[5],
    );
  }
  return array<f32, 4>(z[0] + z[1] + z[2], z[1] - z[2] - z[3], 0.0, 0.0);
}

fn wino_g(i: u32, j: u32) -> f32 {
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
