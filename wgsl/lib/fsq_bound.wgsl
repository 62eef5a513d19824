// Upstream's float32 tanh-bound constants of each level (fsq_round, fsq_backward), computed on the
// host (fsqPlan): bounded_k = tanh(u + SH_k) * H_k - offset_k, H_k = half_l, SH_k = shift.
// Goes with lib/fsq_levels.wgsl (the L_k these belong to).
override H0: f32 = 0.5;
override H1: f32 = 0.5;
override H2: f32 = 0.5;
override H3: f32 = 0.5;
override H4: f32 = 0.5;
override H5: f32 = 0.5;
override H6: f32 = 0.5;
override H7: f32 = 0.5;
override SH0: f32 = 0.0;
override SH1: f32 = 0.0;
override SH2: f32 = 0.0;
override SH3: f32 = 0.0;
override SH4: f32 = 0.0;
override SH5: f32 = 0.0;
override SH6: f32 = 0.0;
override SH7: f32 = 0.0;
