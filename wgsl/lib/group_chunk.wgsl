// The set / chunk geometry of group_norm_stats, group_norm and norm_backward_gn (defined in
// group_norm_stats.wgsl): chunk c = (set * rows + r) * segs + seg covers `count` elements of
// row r of set `si` (= (b * frames + t) * groups + g) from x[base]. One Params for the three: the
// affine fields and eps are unused by the stats pass. The including shader binds `params` and
// declares `override WG: u32` and `override LANE_CHUNKS: bool`.
//
// A workgroup walks chunk w with its WG lanes, or, with LANE_CHUNKS (short rows, chosen by
// kernels/group_norm.ts from the tuning table), each lane walks chunk w * WG + lid alone: a
// workgroup per chunk of a few elements would leave most lanes idle (4x4 to 1x1 maps over a batch
// of hundreds ran 5x slower than the same pixels as one batch of 20x20 maps).
struct Params {
  len: u32,
  rows: u32,
  row_stride: u32,
  frames: u32,
  frame_stride: u32,
  groups: u32,
  batch_stride: u32,
  chunk: u32,
  segs: u32,
  n_wg: u32,
  aff_b: u32,
  aff_t: u32,
  eps: f32,
}

struct Chunk {
  si: u32,
  b: u32,
  t: u32,
  g: u32,
  r: u32,
  base: u32,
  count: u32,
}

fn chunk_of(w: u32) -> Chunk {
  let seg = w % params.segs;
  let r = (w / params.segs) % params.rows;
  let si = w / (params.segs * params.rows);
  let g = si % params.groups;
  let t = (si / params.groups) % params.frames;
  let b = si / (params.groups * params.frames);
  let start = seg * params.chunk;
  let count = min(params.chunk, params.len - start);
  let base = b * params.batch_stride + t * params.frame_stride + (g * params.rows + r) * params.row_stride + start;
  return Chunk(si, b, t, g, r, base, count);
}

struct Walk {
  c: u32,
  live: bool,
  first: u32,
  step: u32,
}

fn walk_of(w: u32, lid: u32) -> Walk {
  if (LANE_CHUNKS) {
    let c = w * WG + lid;
    return Walk(c, c < params.n_wg, 0u, 1u);
  }
  return Walk(w, w < params.n_wg, lid, WG);
}

// Workgroup-uniform: false for a workgroup past the last chunk (it may return before barriers).
fn workgroup_live(w: u32) -> bool {
  return select(w, w * WG, LANE_CHUNKS) < params.n_wg;
}
