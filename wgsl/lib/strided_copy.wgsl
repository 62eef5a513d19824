// The strided copy behind wgsl/layout.wgsl (elem = u32) and wgsl/layout_vec4.wgsl
// (elem = vec4<u32>): see layout.wgsl for the math. The includer declares `alias elem`.

// #include "lib/grid.wgsl"

override WG: u32 = 256;
const VEC: u32 = 4u;

struct Params {
  n: u32,
  e0: u32, e1: u32, e2: u32, e3: u32, e4: u32, e5: u32,
  ss0: u32, ss1: u32, ss2: u32, ss3: u32, ss4: u32, ss5: u32,
  ds0: u32, ds1: u32, ds2: u32, ds3: u32, ds4: u32, ds5: u32,
  lo0: u32, lo1: u32, lo2: u32, lo3: u32, lo4: u32, lo5: u32,
  len0: u32, len1: u32, len2: u32, len3: u32, len4: u32, len5: u32,
  src_base: u32,
  dst_base: u32,
  pad_bits: u32,
}

@group(0) @binding(0) var<storage, read> src: array<elem>;
@group(0) @binding(1) var<storage, read_write> dst: array<elem>;
@group(0) @binding(2) var<uniform> params: Params;

// Writes the point with innermost coordinate o5; the outer coordinates o0..o4 contribute
// (src_outer, dst_outer, valid_outer).
fn put(o5: u32, src_outer: u32, dst_outer: u32, valid_outer: bool) {
  let s = src_outer + o5 * params.ss5;
  let d = dst_outer + o5 * params.ds5;
  if (valid_outer && o5 - params.lo5 < params.len5) {
    dst[d] = src[s];
  } else {
    dst[d] = elem(params.pad_bits);
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let first = (flat_workgroup(wid, nwg) * WG + lid) * VEC;
  if (first >= params.n) {
    return;
  }
  let e = array<u32, 5>(params.e0, params.e1, params.e2, params.e3, params.e4);
  let ss = array<u32, 5>(params.ss0, params.ss1, params.ss2, params.ss3, params.ss4);
  let ds = array<u32, 5>(params.ds0, params.ds1, params.ds2, params.ds3, params.ds4);
  let lo = array<u32, 5>(params.lo0, params.lo1, params.lo2, params.lo3, params.lo4);
  let len = array<u32, 5>(params.len0, params.len1, params.len2, params.len3, params.len4);
  var o5 = first % params.e5;
  var outer = first / params.e5;
  var so = 0u;
  var dof = 0u;
  var valid = true;
  // Outer coordinates change at most once per VEC points when e5 >= VEC; recompute them then.
  var dirty = true;
  let last = min(first + VEC, params.n);
  for (var i = first; i < last; i++) {
    if (dirty) {
      so = params.src_base;
      dof = params.dst_base;
      valid = true;
      var rest = outer;
      for (var k = 4; k >= 0; k--) {
        let ok = rest % e[k];
        rest = rest / e[k];
        so += ok * ss[k];
        dof += ok * ds[k];
        valid = valid && ok - lo[k] < len[k];
      }
      dirty = false;
    }
    put(o5, so, dof, valid);
    o5++;
    if (o5 == params.e5) {
      o5 = 0u;
      outer++;
      dirty = true;
    }
  }
}
