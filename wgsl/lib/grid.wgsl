// Flat workgroup index over a 1-D grid that the host folded into (x, y) with foldGrid()
// to stay under 65535 workgroups per dimension.
fn flat_workgroup(wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return wid.x + wid.y * nwg.x;
}
