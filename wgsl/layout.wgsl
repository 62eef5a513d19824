// layout: one strided copy behind concat, slice, pad and permute. For every point o of a rank-6
// iteration space E (lower ranks padded with leading 1s):
//   dst[dst_base + sum_k o_k * ds_k] = all_k(lo_k <= o_k < lo_k + len_k)
//                                        ? src[src_base + sum_k o_k * ss_k] : pad_bits
// All index arithmetic is u32 and wraps mod 2^32, so src_base may fold in a negative offset
// (pad: src coordinate = o_k - lo_k) as long as every valid element lands in range.
//   permute: E = out shape, ss = input strides permuted, ds = contiguous, no padding.
//   slice:   E = out shape, src_base = start * stride(axis), ds = contiguous.
//   pad:     E = out shape, lo = leading pads, len = input dims, src_base = -sum lo_k * ss_k.
//   concat:  one dispatch per input: E = input shape, ds = out strides, dst_base = axis offset.
// The host merges adjacent dims that stay contiguous on both sides, so rank <= 3 is typical.
//
// src: array<u32>  (any 4-byte dtype, copied bit-exactly)
// dst: array<u32>
// Each invocation writes VEC consecutive points; ceil(n / (VEC * WG)) workgroups, folded (x, y).
// wgsl/layout_vec4.wgsl runs the same code on vec4<u32> when the innermost dim is contiguous on
// both sides and everything is a multiple of 4 (lavapipe moves 16 bytes per lane access there).

alias elem = u32;

// #include "lib/strided_copy.wgsl"
