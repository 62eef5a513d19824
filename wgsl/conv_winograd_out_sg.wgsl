// conv_winograd_out_sg: conv_winograd_out_vec2 (same math and stores; see conv_winograd_out) for
// adapters with subgroups of >= 8 invocations, Cout % 8 == 0 and W even. A workgroup is one
// subgroup: lanes 0..7 take tile p0 + q, channels co0 .. co0 + 7, whose products of point xi are
// 8 consecutive floats of m. Lane L loads those of point xi0 + L as two vec4s and subgroupBroadcast
// hands each point's to every lane: 2 loads per 8 points instead of 8 (on lavapipe each storage
// access whose address is not a compile-time constant is a loop over the SIMD lanes).
//
// m:    array<vec4<f32>>  [alpha^2][pp][Cout / 4] (pp % 4 == 0, so a point's 8 channels are 2 aligned vec4s)
// bias, res, out: as conv_winograd_out_vec2
// Dispatch: pc Cout / 8 workgroups of 8 invocations, folded into (x, y).

enable subgroups;

const V = 2u;

// #include "lib/spread8.wgsl"
// #include "lib/conv_winograd_out_body.wgsl"

@group(0) @binding(0) var<storage, read> m: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> res: array<vec2<f32>>;
@group(0) @binding(3) var<storage, read_write> out: array<vec2<f32>>;

fn out_vals(bv: f32, yr: array<f32, 6>, j: u32) -> vec2<f32> {
  return vec2(bv + yr[j], bv + yr[j + 1u]);
}

@compute @workgroup_size(8)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(subgroup_invocation_id) lane: u32) {
  let g = flat_workgroup(wid, nwg);
  let cb = params.cout / 8u;
  // Uniform over the workgroup (one subgroup): the broadcasts below run in uniform control flow.
  if (g >= params.pc * cb) {
    return;
  }
  let q = g / cb;
  let co0 = (g % cb) * 8u;
  let plane4 = params.pp * params.cout / 4u;
  let at4 = (q * params.cout + co0) / 4u;
  let n = ALPHA * ALPHA;
  var mv: array<WVec, 8>;
  for (var x0 = 0u; x0 < n; x0 += 8u) {
    let xi = min(x0 + lane, n - 1u);
    let lo = spread8(m[xi * plane4 + at4]);
    let hi = spread8(m[xi * plane4 + at4 + 1u]);
    for (var j = 0u; j < 8u; j++) {
      if (x0 + j < n) {
        mv[(x0 + j) / ALPHA][(x0 + j) % ALPHA] = select(hi[j][lane & 3u], lo[j][lane & 3u], lane < 4u);
      }
    }
  }
  store_tile(mv, q, co0 + lane);
}
