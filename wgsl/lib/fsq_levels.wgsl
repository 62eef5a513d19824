// The FSQ level list compiled into a pipeline (fsq_round, fsq_codes, fsq_backward): NL levels with
// L_k values each, from the host's fsqPlan (kernels/fsq_round.ts); levels past NL are unused.
override NL: u32 = 6;
override L0: u32 = 2;
override L1: u32 = 2;
override L2: u32 = 2;
override L3: u32 = 2;
override L4: u32 = 2;
override L5: u32 = 2;
override L6: u32 = 2;
override L7: u32 = 2;

// L_k; k is a constant after unrolling, so this folds to one override.
fn fsq_level(k: u32) -> u32 {
  switch k {
    case 0u: { return L0; }
    case 1u: { return L1; }
    case 2u: { return L2; }
    case 3u: { return L3; }
    case 4u: { return L4; }
    case 5u: { return L5; }
    case 6u: { return L6; }
    default: { return L7; }
  }
}
