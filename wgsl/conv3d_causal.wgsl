// conv3d_causal: causal 3-D convolution as an implicit GEMM (also the 2-D convs, with KT = T = 1).
//
//   out[b,co,t,oy,ox] = act(bias[co] + sum_{ci,a,dy,dx} w[co,ci,a,dy,dx] * in[b,ci,t+a-(KT-1), oy*sh-ph+dy, ox*sw-pw+dx])
//                       (+ res[b,co,t,oy,ox])
//
// GEMM view: M = Cout, N = output positions, K = Cin*KT*KH*KW. Nothing is materialised: every
// input read is an index predicate. Frames before 0 (ti < 0) come from `past` (the last `past`
// frames before this chunk, streaming mode) and are zero beyond it (causal padding); rows/columns
// outside the input are zero (spatial padding, per side: top/left = ph/pw, bottom/right implied by
// ho/wo). Output frame count = input frame count.
//
// x:    array<f32>  [B, Cin, T, H, W]
// past: array<f32>  [B, Cin, past, H, W]  (any read-only buffer when past = 0)
// w:    array<vec4<f32>>  packed [ceil(Cout/RM), Cin, KT, KH, KW, RM]: channel co = blk*RM + i of
//       row k at (blk*K + k)*RM + i, so one workgroup's RM weights of a k are R4 vec4 loads;
//       channels past Cout repeat the last one (their results are dropped); made by pack_blocks
//       (conv3d_causal_f16: the same blocks as f16 pairs, pack_blocks_f16).
// bias: array<f32>  [Cout]                 (read only when has_bias = 1)
// res:  array<f32>  [B, Cout, T, HO, WO]   (read only when has_res = 1)
// out:  array<f32>  [B, Cout, T, HO, WO]
//
// Register blocking: each invocation owns RM output channels x RN positions in RM*RN scalar
// accumulators (lavapipe spills vec4 accumulators). The channel block is the same for the whole
// workgroup, so weight loads are lane-uniform vec4 loads of the packed weights; positions differ per
// lane (lane l, slot j -> position p0 + j*WG + l), so input loads are per-lane. Positions run
// over (b, HO*WO): a tile may span clips, so small frames fill whole tiles. A workgroup stays at
// one frame index t, which makes the time tap's source (x, past or zero) uniform: padded frames
// are skipped, not multiplied by zero. Summation order per output element is fixed
// (time tap, row tap, column tap, then ci), independent of the grid, so a chunked (streaming) pass
// is bit-identical to the whole-clip pass.
//
// Dispatch: (ceil(B*HO*WO / (WG*RN)), ceil(Cout / RM), T).

// #include "lib/grid.wgsl"
// #include "lib/conv_w_f32.wgsl"
// #include "lib/conv3d_body.wgsl"
// #include "lib/conv3d_lane.wgsl"
