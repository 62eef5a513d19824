import type { ExecutionContext } from 'ava';

export interface CloseOptions {
  /** Absolute tolerance. */
  atol?: number;
  /** Relative tolerance (scaled by |expected|). */
  rtol?: number;
  /** Shape, for multi-dimensional indices in the report. */
  shape?: readonly number[];
  /** What is compared, for the report. */
  name?: string;
  /** How many mismatches to list. */
  show?: number;
}

export interface CloseResult {
  ok: boolean;
  maxAbs: number;
  maxRel: number;
  mismatches: number;
  report: string;
}

function unravel(i: number, shape: readonly number[]): string {
  const idx: number[] = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    idx.unshift(i % shape[d]!);
    i = Math.floor(i / shape[d]!);
  }
  return `[${idx.join(',')}]`;
}

/** Compares elementwise with |a - e| <= atol + rtol * |e|; NaN matches only NaN. */
export function compareClose(actual: ArrayLike<number>, expected: ArrayLike<number>, o: CloseOptions = {}): CloseResult {
  const atol = o.atol ?? 1e-5;
  const rtol = o.rtol ?? 0;
  const name = o.name ?? 'value';
  const shape = o.shape ?? [expected.length];
  if (actual.length !== expected.length) {
    return { ok: false, maxAbs: Infinity, maxRel: Infinity, mismatches: -1, report: `${name}: length ${actual.length}, expected ${expected.length} (shape [${shape.join(',')}])` };
  }
  let maxAbs = 0;
  let maxRel = 0;
  const bad: string[] = [];
  let mismatches = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    const both = Number.isNaN(a) && Number.isNaN(e);
    const err = both ? 0 : a === e ? 0 : Math.abs(a - e);
    const rel = err / Math.max(Math.abs(e), 1e-30);
    if (!(err <= maxAbs)) maxAbs = Number.isNaN(err) ? Infinity : Math.max(maxAbs, err);
    if (e !== 0 && rel > maxRel) maxRel = rel;
    if (!both && !(err <= atol + rtol * Math.abs(e))) {
      mismatches++;
      if (bad.length < (o.show ?? 8)) bad.push(`  [${i}] ${unravel(i, shape)}: got ${a}, expected ${e}, |err| ${err.toExponential(3)}`);
    }
  }
  const head = `${name} shape [${shape.join(',')}]: max abs err ${maxAbs.toExponential(3)}, max rel err ${maxRel.toExponential(3)}, tol atol=${atol} rtol=${rtol}`;
  const report = mismatches ? `${head}\n${mismatches} of ${expected.length} mismatched; first:\n${bad.join('\n')}` : head;
  return { ok: mismatches === 0, maxAbs, maxRel, mismatches, report };
}

/** ava assertion: passes iff every element is within tolerance; logs the error statistics. */
export function assertClose(t: ExecutionContext, actual: ArrayLike<number>, expected: ArrayLike<number>, o: CloseOptions = {}): CloseResult {
  const r = compareClose(actual, expected, o);
  if (r.ok) t.pass();
  else t.fail(r.report);
  return r;
}

/** Exact equality for indices and codes, with the same report. */
export function assertEqualInts(t: ExecutionContext, actual: ArrayLike<number>, expected: ArrayLike<number>, o: CloseOptions = {}): CloseResult {
  return assertClose(t, actual, expected, { ...o, atol: 0, rtol: 0 });
}
