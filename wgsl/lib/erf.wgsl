// erf in f32 to within 1 ulp (max abs error 6e-8 on [-6, 6] in f32 arithmetic): N. Juffa's
// minimax fits, a polynomial in x^2 below |x| = 0.9277 and 1 - exp(poly(|x|)) above. Abramowitz-
// Stegun 7.1.26 (error 1.5e-7 relative to 1, more after cancellation) is not enough for 1e-6.
fn erf4(a: vec4<f32>) -> vec4<f32> {
  let t = abs(a);
  let s = a * a;
  var r = fma(vec4(-1.72853470e-5), t, vec4(3.83197126e-4));
  let u = fma(vec4(-3.88396438e-3), t, vec4(2.42546219e-2));
  r = fma(r, s, u);
  r = fma(r, t, vec4(-1.06777877e-1));
  r = fma(r, t, vec4(-6.34846687e-1));
  r = fma(r, t, vec4(-1.28717512e-1));
  r = fma(r, t, -t);
  let big = sign(a) * (1.0 - exp(r));
  var p = fma(vec4(-5.96761703e-4), s, vec4(4.99119423e-3));
  p = fma(p, s, vec4(-2.67681349e-2));
  p = fma(p, s, vec4(1.12819925e-1));
  p = fma(p, s, vec4(-3.76125336e-1));
  p = fma(p, s, vec4(1.28379166e-1));
  let small = fma(p, a, a);
  return select(small, big, t > vec4(0.927734375));
}
