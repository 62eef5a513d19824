// conv_winograd_weight: the weight transform of a Winograd F(2x2, 3x3) convolution, from a
// PackedConvWeight's blocks: for input channel ci and output channel co, the 3x3 kernel g becomes
//   U = G g G^T,  G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]
// stored as the batched GEMM's B: u[xi][ci][co], xi = 4 i + j.
//
// w: array<u32>  the packed blocks [ceil(Cout / rm)][Cin 9][rm]: f32 bits, or (F16) halves in pairs
// u: array<f32>  [16][Cin][Cout]
// Dispatch: ceil(Cin Cout / WG) workgroups, one invocation per (ci, co), folded into (x, y).

// #include "lib/grid.wgsl"

override WG: u32 = 64;
override F16: bool = false;

struct Params {
  cin: u32,
  cout: u32,
  rm: u32,
}

@group(0) @binding(0) var<storage, read> w: array<u32>;
@group(0) @binding(1) var<storage, read_write> u: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

fn weight(co: u32, r: u32) -> f32 {
  let i = ((co / params.rm) * params.cin * 9u + r) * params.rm + co % params.rm;
  if (F16) {
    return unpack2x16float(w[i >> 1u])[i & 1u];
  }
  return bitcast<f32>(w[i]);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let e = flat_workgroup(wid, nwg) * WG + lid;
  let cout = params.cout;
  if (e >= params.cin * cout) {
    return;
  }
  let ci = e / cout;
  let co = e % cout;
  // s = G g (rows: 4 x 3), then U = s G^T (columns: 4 x 4).
  var s: array<array<f32, 3>, 4>;
  for (var j = 0u; j < 3u; j++) {
    let g0 = weight(co, ci * 9u + j);
    let g1 = weight(co, ci * 9u + 3u + j);
    let g2 = weight(co, ci * 9u + 6u + j);
    s[0][j] = g0;
    s[1][j] = 0.5 * (g0 + g1 + g2);
    s[2][j] = 0.5 * (g0 - g1 + g2);
    s[3][j] = g2;
  }
  let plane = params.cin * cout;
  for (var i = 0u; i < 4u; i++) {
    let a = s[i][0];
    let b = s[i][1];
    let c = s[i][2];
    u[(4u * i) * plane + e] = a;
    u[(4u * i + 1u) * plane + e] = 0.5 * (a + b + c);
    u[(4u * i + 2u) * plane + e] = 0.5 * (a - b + c);
    u[(4u * i + 3u) * plane + e] = c;
  }
}
