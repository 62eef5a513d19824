// The two GroupNorm pass layouts of the tuning table's normLaneLen (lib/group_chunk.wgsl) and the
// shapes both must hold on: the patch encoder's 1x1 maps over a batch of 200, 9x9 rows, and rows
// over one 4096-element chunk (group_norm.test.ts, norm_backward.test.ts).
export const NORM_LAYOUTS = [['workgroup per chunk', 1], ['lane per chunk', 1 << 20]] as const;
export const NORM_LAYOUT_CASES: [number[], number][] = [[[200, 32, 1, 1], 2], [[3, 8, 9, 9], 4], [[1, 4, 4100], 2]];
