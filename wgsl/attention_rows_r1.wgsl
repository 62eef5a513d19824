// attention_rows_r1: attention_rows (see there) with one query row per invocation, for short
// queries: its first compile on lavapipe is ~1/5 of R = 4's at HD 64, and a query of <= 32 rows
// runs as up to 4 workgroups instead of one.

enable subgroups;

const R = 1u;

// #include "lib/attention_rows_main.wgsl"
