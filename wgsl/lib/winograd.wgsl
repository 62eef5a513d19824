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

fn wino_bt(i: u32, j: u32) -> f32 {
  if (TILE == 4u) {
    return BT4[i][j];
  }
  return BT2[i][j];
}

fn wino_g(i: u32, j: u32) -> f32 {
  if (TILE == 4u) {
    return G4[i][j];
  }
  return G2[i][j];
}

fn wino_at(i: u32, j: u32) -> f32 {
  if (TILE == 4u) {
    return AT4[i][j];
  }
  return AT2[i][j];
}

// Tile p of the flat index (n th + ty) tw + tx as (image n, ty, tx).
fn wino_tile(p: u32, th: u32, tw: u32) -> vec3<u32> {
  let tiles = th * tw;
  return vec3(p / tiles, (p % tiles) / tw, p % tw);
}
