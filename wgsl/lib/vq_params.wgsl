// Shape uniforms of vq_lookup and vq_lookup_sg: N rows, V codes, E elements, codes per slice, slices.
struct Params {
  n: u32,
  v: u32,
  e: u32,
  span: u32,
  splits: u32,
}
