// The set / chunk geometry of group_norm_stats, group_norm and norm_backward_gn (defined in
// group_norm_stats.wgsl): workgroup w = (set * rows + r) * segs + seg covers `count` elements of
// row r of set `si` (= (b * frames + t) * groups + g) from x[base]. One Params for the three: the
// affine fields and eps are unused by the stats pass. The including shader binds `params`.
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
