import test from 'ava';
import { type FuzzStats, formatStats, fuzzPth, fuzzSafetensors } from '../helpers/fuzz-readers.js';

// CI runs a few hundred cases; `npx tsx scripts/fuzz-pth.ts 10000` runs the long campaign.
const CASES = 500;

function check(t: import('ava').ExecutionContext, title: string, s: FuzzStats, kinds: number) {
  t.log(formatStats(title, s));
  t.deepEqual(s.failures.map((f) => `#${f.index} ${f.kind}: ${f.error}`), [], 'every case loads or ends in the reader\'s own error');
  t.is(s.cases, CASES);
  t.true(s.loaded > 0 && s.rejected > s.loaded, 'mutations both survive and get rejected (the fuzzer reaches deep)');
  t.is(Object.keys(s.kinds).length, kinds, 'every mutation kind ran');
  t.true(s.maxCaseMs < 5000, `slowest case ${s.maxCaseMs} ms`);
  t.true(s.maxArrayBufferGrowth < 64e6, `allocation grew by ${s.maxArrayBufferGrowth} bytes in one case`);
}

test('fuzz: mutated .pth files load or fail with a PthError', async (t) => {
  check(t, 'pth', await fuzzPth(CASES, 1), 11);
});

test('fuzz: mutated safetensors files load or fail with a SafetensorsError', async (t) => {
  check(t, 'safetensors', await fuzzSafetensors(CASES, 1), 5);
});
