// conv3d_causal_sg: conv3d_causal (same math, layouts, bindings and summation order; see
// conv3d_causal.wgsl) for adapters with subgroups of >= 8 invocations, RM = 32, RN = 4.
// The 8 vec4s of weights a (ci, tap) step needs are loaded once per subgroup, one per lane, and spread
// with subgroupBroadcast instead of each lane loading all of them. On lavapipe every load inside
// these loops runs lane by lane even at a uniform address, so this cuts the loads per 128 FMAs from
// 4 vec4 + 8 scalar per lane to 1 vec4 + 4 scalar (figures: bench/README.md, Design measurements).
// Same summation order, so both variants agree to a few ulps; not bits, as WGSL leaves fma
// contraction of a * b + c to each pipeline's compiler.
//
// Dispatch: (ceil(B*HO*WO / (WG*RN)), ceil(Cout / RM), T).

enable subgroups;
// #include "lib/spread8.wgsl"
// #include "lib/grid.wgsl"
// #include "lib/conv_w_f32.wgsl"
// #include "lib/conv3d_body.wgsl"
// #include "lib/conv3d_sg.wgsl"
