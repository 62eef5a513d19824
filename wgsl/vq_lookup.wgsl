// vq_lookup: nearest codebook entry under L2, as a GEMM with a fused argmin epilogue.
//   idx[n] = argmin_v  ||c_v||^2 - 2 x_n . c_v      (||x_n||^2 is the same for every v: left out)
// ties go to the lowest v: every comparison is lexicographic on (distance, index).
// The partial argmin of three passes (kernels/vq_lookup.ts): the code norms cn[v] = sum_e c[v, e]^2
// come first (reduce.wgsl), this pass scans codebook slices, vq_combine.wgsl picks among slices.
//   workgroup (ry, sx) scans codes [sx*span, (sx+1)*span) for rows 4*WGY*ry..
//   (row groups vary fastest, so a codebook slice stays in cache across them)
//   Each invocation owns 4 rows x 4 codes per step (16 scalar accumulators, loads straight from
//   storage as in matmul.wgsl), keeps a running (dist, index) per row, then the WGX invocations
//   sharing rows reduce through workgroup memory.
//   part[sx * N + n] = (bitcast<u32>(dist), index)
// Numerics: f32 dot products (sequential fma over E, identical for every code) and norms summed in
// one fixed order for every code, so duplicated codes tie exactly and resolve to the lowest index.
//
// x:    array<f32>        [N, E]
// cb:   array<f32>        [V, E]
// cn:   array<f32>        [V]
// part: array<vec2<u32>>  [splits, N]
// Dispatch: (ceil(N / (4*WGY)), splits) workgroups of WGX x WGY.

override WGX: u32 = 16;
override WGY: u32 = 4;

// #include "lib/vq_params.wgsl"

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> cb: array<f32>;
@group(0) @binding(2) var<storage, read> cn: array<f32>;
@group(0) @binding(3) var<storage, read_write> part: array<vec2<u32>>;
@group(0) @binding(4) var<uniform> params: Params;

var<workgroup> red_d: array<f32, WGX * WGY * 4u>;
var<workgroup> red_i: array<u32, WGX * WGY * 4u>;

fn better(d: f32, i: u32, bd: f32, bi: u32) -> bool {
  return d < bd || (d == bd && i < bi);
}

@compute @workgroup_size(WGX, WGY)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let N = params.n;
  let V = params.v;
  let E = params.e;
  let row0 = (wid.x * WGY + lid.y) * 4u;
  var rows: array<u32, 4>;
  for (var i = 0u; i < 4u; i++) {
    rows[i] = min(row0 + i, N - 1u) * E;
  }
  let v_begin = wid.y * params.span;
  let v_end = min(v_begin + params.span, V);
  var best_d = array<f32, 4>(3.4e38, 3.4e38, 3.4e38, 3.4e38);
  var best_i = array<u32, 4>(0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu);
  let e4 = E & ~3u;
  for (var col0 = v_begin + lid.x * 4u; col0 < v_end; col0 += 4u * WGX) {
    var cols: array<u32, 4>;
    for (var j = 0u; j < 4u; j++) {
      cols[j] = min(col0 + j, V - 1u) * E;
    }
    var acc = array<f32, 16>(); // explicit: lavapipe does not re-zero an uninitialised loop-body var (measured)
    for (var k = 0u; k < e4; k += 4u) {
      var xv: array<vec4<f32>, 4>; // xv[i][kk] = x(rows[i], k + kk)
      var cv: array<vec4<f32>, 4>; // cv[kk][j] = c(cols[j], k + kk)
      for (var i = 0u; i < 4u; i++) {
        xv[i] = vec4(x[rows[i] + k], x[rows[i] + k + 1u], x[rows[i] + k + 2u], x[rows[i] + k + 3u]);
        cv[i] = vec4(cb[cols[0] + k + i], cb[cols[1] + k + i], cb[cols[2] + k + i], cb[cols[3] + k + i]);
      }
      for (var i = 0u; i < 4u; i++) {
        for (var kk = 0u; kk < 4u; kk++) {
          for (var j = 0u; j < 4u; j++) {
            acc[i * 4u + j] = fma(xv[i][kk], cv[kk][j], acc[i * 4u + j]);
          }
        }
      }
    }
    for (var k = e4; k < E; k++) {
      for (var i = 0u; i < 4u; i++) {
        let xi = x[rows[i] + k];
        for (var j = 0u; j < 4u; j++) {
          acc[i * 4u + j] = fma(xi, cb[cols[j] + k], acc[i * 4u + j]);
        }
      }
    }
    // Codes in ascending order with a strict <: the first of equal distances is kept.
    for (var j = 0u; j < 4u; j++) {
      let v = col0 + j;
      if (v < v_end) {
        let nv = cn[v];
        for (var i = 0u; i < 4u; i++) {
          let d = nv - 2.0 * acc[i * 4u + j];
          if (d < best_d[i]) {
            best_d[i] = d;
            best_i[i] = v;
          }
        }
      }
    }
  }
  let slot = (lid.y * 4u) * WGX + lid.x;
  for (var i = 0u; i < 4u; i++) {
    red_d[slot + i * WGX] = best_d[i];
    red_i[slot + i * WGX] = best_i[i];
  }
  workgroupBarrier();
  // 4*WGY rows, one invocation each (WGX >= 4 is guaranteed by the host), reduce WGX candidates.
  let t = lid.y * WGX + lid.x;
  if (t < 4u * WGY) {
    let r = wid.x * WGY * 4u + t;
    var bd = red_d[t * WGX];
    var bi = red_i[t * WGX];
    for (var l = 1u; l < WGX; l++) {
      let d = red_d[t * WGX + l];
      let i = red_i[t * WGX + l];
      if (better(d, i, bd, bi)) {
        bd = d;
        bi = i;
      }
    }
    if (r < N) {
      part[wid.y * N + r] = vec2(bitcast<u32>(bd), bi);
    }
  }
}
