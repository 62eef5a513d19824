// The entry point of fsq_round.wgsl and fsq_codes.wgsl: R rows per invocation over a 1-D grid
// folded into (x, y). The including shader's fsq_rows(r0, M, S, D) handles rows r0..r0+R-1 of M
// (loads clamp rows past M - 1 to it; stores skip them); row r = (b, s), b = r / S, s = r % S.
// #include "lib/grid.wgsl"

override WG: u32 = 64;
// Rows per invocation (<= RMAX): each weight load serves R rows (on lavapipe loads, not FMAs,
// bound the projection; figures: bench/README.md, Design measurements: fsq_round).
override R: u32 = 8;
const RMAX: u32 = 8u;

// Offset of row r's channel 0 in a [B, C, S] tensor (its channel k at + k * S).
fn fsq_row_base(r: u32, C: u32, S: u32) -> u32 {
  let b = r / S;
  return b * C * S + (r - b * S);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let r0 = (flat_workgroup(wid, nwg) * WG + lid) * R;
  if (r0 < params.rows) {
    fsq_rows(r0, params.rows, params.spatial, params.dim);
  }
}
