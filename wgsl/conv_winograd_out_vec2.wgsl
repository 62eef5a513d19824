// conv_winograd_out_vec2: conv_winograd_out (see there) storing and reading the residual two
// outputs at a time, for W even (m is even, so a tile's row is whole pairs). On lavapipe every
// storage access whose address is not a compile-time constant is a loop over the SIMD lanes, a
// vec2 as cheap as an f32: half the loops run, and the first compile of the F(6x6) pipeline took
// 1.7-2.1 s instead of 2.5-3.6 s (bench/README.md, Design measurements: conv_winograd).
//
// m:    array<f32>        [alpha^2][pp][Cout]
// bias: array<f32>        [Cout]        read when has_bias != 0
// res:  array<vec2<f32>>  [B][Cout][T][H][W / 2]  read when has_res != 0
// out:  array<vec2<f32>>  [B][Cout][T][H][W / 2]  (T = 1: NCHW)
// Dispatch: as conv_winograd_out.

const V = 2u;

@group(0) @binding(2) var<storage, read> res: array<vec2<f32>>;
@group(0) @binding(3) var<storage, read_write> out: array<vec2<f32>>;

fn out_vals(bv: f32, yr: array<f32, 6>, j: u32) -> vec2<f32> {
  return vec2(bv + yr[j], bv + yr[j + 1u]);
}

// #include "lib/conv_winograd_out_main.wgsl"
