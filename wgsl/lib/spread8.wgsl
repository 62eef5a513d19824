// Lane L's v, for L < 8, given to every lane: [L] holds lane L's. Needs `enable subgroups;`,
// subgroups of at least 8 invocations and uniform control flow. On lavapipe a broadcast is a
// register extract and splat, while a load inside a loop runs lane by lane even at a uniform
// address: loading 8 vec4s once per subgroup and spreading them beats every lane loading them.
fn spread8(v: vec4<f32>) -> array<vec4<f32>, 8> {
  return array<vec4<f32>, 8>(
    subgroupBroadcast(v, 0u), subgroupBroadcast(v, 1u), subgroupBroadcast(v, 2u), subgroupBroadcast(v, 3u),
    subgroupBroadcast(v, 4u), subgroupBroadcast(v, 5u), subgroupBroadcast(v, 6u), subgroupBroadcast(v, 7u));
}
