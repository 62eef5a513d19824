// attention_rows: flash prefill for HD <= 64, laid out for CPU SIMD lanes (the fast path of the
// attention family; attention.wgsl serves HD > 64 and adapters without subgroups).
//   out[b,h,i,:] = sum_j softmax_j(s[i,j]) v[b,h,j,:],  s[i,j] = scale * q[b,h,i,:] . k[b,h,j,:]
//   causal: s = FMIN where j > off + i, off = lk - lq;  mask: s = max(s + mask[b,j], FMIN)
// FMIN is the float32 minimum, as upstream adds it: a fully masked row is a finite uniform average.
// Online softmax in f32 per row (running max m, sum l, output acc), rescaled once per TK keys.
//
// q:    array<vec4<f32>>  [B, NH, lq, HD]
// k, v: array<vec4<f32>>  [B, NH, k_rows, HD]; rows 0..lk-1 are the keys (k_rows >= lk: a KV cache)
// mask: array<f32>        [B, mask_stride] additive (bound but unread when has_mask = 0)
// out:  array<vec4<f32>>  [B, NH, lq, HD]
// Dispatch: (ceil(lq / (8 R)), NH, B) workgroups of 8 invocations (one subgroup; the host uses this
// kernel only when the adapter's subgroupMinSize >= 8). Invocation lid owns query rows
// q0 + lid + 8 r, r < R: their q (pre-scaled) and acc live in private arrays, R * HD floats each.
// Key slices and mask values are spread by subgroup lane (subgroup_invocation_id), since how
// local_invocation_index maps to lanes is unspecified.
// Why this shape: on lavapipe every load whose address is not a compile-time constant runs as a
// branchy loop over the 8 SIMD lanes, from storage and workgroup memory alike, so a per-lane vec4
// load costs ~100x an FMA. Each key row is therefore loaded once per subgroup, spread over the
// lanes (lane L holds 16-byte slices L and 8 + L), and handed to every lane with subgroupBroadcast
// (a register extract + splat); each broadcast value then feeds R rows' FMAs. Loops over TK, R and
// HD/4 have constant trip counts and index private arrays, so they are fully unrolled and the
// arrays become registers. R = 4 runs fastest on long queries, but its first compile grows faster
// than R * HD (HD 64: R = 4 ~5x R = 1): short queries (a prompt's prefill) take attention_rows_r1,
// whose JIT fits a cold start (figures: bench/README.md, Design measurements: attention).

enable subgroups;

// Query rows per invocation.
const R = 4u;

// #include "lib/attention_rows_main.wgsl"
