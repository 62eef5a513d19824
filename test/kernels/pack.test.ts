// pack: the column-blocked and transposed operand layouts vs their references (exact: data
// movement), on shapes that are not multiples of the block, 1-sized dims, batches, and a chunk of
// columns packed from a slice of the source as matmul does for weights over the binding limit.
import test from 'ava';
import { KernelArgError } from '../../kernels/index.js';
import { halfToFloat } from '../../kernels/core/ref_math.js';
import { type PackBlocksShape, packBlocks, packBlocksRef, packedBlocksSize, paddedRows, transposePadded, transposePaddedRef } from '../../kernels/pack.js';
import { assertEqualInts } from '../helpers/close.js';
import { gpu } from '../helpers/gpu.js';
import { Rng } from '../helpers/rng.js';

const BLOCKS: PackBlocksShape[] = [
  { batch: 1, n: 1, k: 1, r: 4, trans: false },
  { batch: 1, n: 37, k: 13, r: 16, trans: true },
  { batch: 3, n: 17, k: 5, r: 16, trans: false },
  { batch: 2, n: 9, k: 7, r: 8, trans: true },
  { batch: 1, n: 50, k: 3, r: 12, trans: false, nOff: 12, cols: 30 },
  { batch: 1, n: 50, k: 6, r: 16, trans: true, nOff: 32, cols: 18 },
];

for (const p of BLOCKS) {
  test(`pack_blocks ${JSON.stringify(p)}`, async (t) => {
    const ctx = await gpu();
    const src = Rng.fromString(t.title).array(p.batch * p.n * p.k);
    const out = ctx.tensor([packedBlocksSize(p)], 'f32');
    packBlocks(ctx, ctx.fromArray(src, [src.length]), out, p);
    const want = packBlocksRef(src, p);
    t.is(want.length, p.batch * Math.ceil((p.cols ?? p.n) / p.r) * p.k * p.r);
    assertEqualInts(t, await out.read(), want, { name: t.title });
  });
}

for (const p of [BLOCKS[1]!, BLOCKS[2]!, BLOCKS[3]!]) {
  test(`pack_blocks_f16 ${JSON.stringify(p)}`, async (t) => {
    const ctx = await gpu();
    // Values over several binades, ties and a value past the f16 range (infinity).
    const src = Rng.fromString(t.title).array(p.batch * p.n * p.k).map((v, i) => (i === 3 ? 70000 : i === 5 ? 1 + 2 ** -11 : v * 2 ** ((i % 9) - 4)));
    const q = { ...p, f16: true };
    const out = ctx.tensor([packedBlocksSize(q) / 2], 'u32');
    packBlocks(ctx, ctx.fromArray(src, [src.length]), out, q);
    const bits = await out.read();
    const got = Float32Array.from({ length: bits.length * 2 }, (_, i) => halfToFloat((bits[i >> 1]! >>> (16 * (i & 1))) & 0xffff));
    const want = packBlocksRef(src, q);
    t.true(want.includes(Infinity) && want.includes(1), 'the overflow and the tie (1 + 2^-11 -> 1) are packed');
    // Bit patterns, not differences: the infinity must match too.
    t.deepEqual(Array.from(got), Array.from(want));
  });
}

// An f16 source (an f16 checkpoint's bits, pairs in u32s): moved as bits, odd counts and offsets included.
for (const p of [BLOCKS[0]!, BLOCKS[1]!, BLOCKS[3]!, BLOCKS[5]!]) {
  test(`pack_blocks_h16 ${JSON.stringify(p)}`, async (t) => {
    const ctx = await gpu();
    const n = p.batch * p.n * p.k;
    // Every class of half: zeros, subnormals, normals, infinities, a NaN payload.
    const halves = Uint16Array.from({ length: n + (n % 2) }, (_, i) => [0x0000, 0x8000, 0x0001, 0x83ff, 0x3c00, 0x7c00, 0xfc00, 0x7e01][i % 8]! ^ ((i * 37) & 0x03f0));
    const q = { ...p, f16: true, srcF16: true };
    const out = ctx.tensor([packedBlocksSize(q) / 2], 'u32');
    packBlocks(ctx, ctx.fromArray(new Uint32Array(halves.buffer), [halves.length / 2], 'u32'), out, q);
    const words = await out.read();
    const got = Array.from({ length: words.length * 2 }, (_, i) => (words[i >> 1]! >>> (16 * (i & 1))) & 0xffff);
    // The reference gives values; the layout is pack_blocks' (indices of the source halves).
    const idx = packBlocksRef(Float32Array.from({ length: n }, (_, i) => i), p);
    t.deepEqual(got, Array.from(idx, (i) => halves[i]!));
    t.deepEqual(Array.from(packBlocksRef(halves.subarray(0, n), q)).slice(0, 8), Array.from(idx.slice(0, 8), (i) => halfToFloat(halves[i]!)));
  });
}

test('pack_blocks: a column past the last repeats it; bad shapes are named', (t) => {
  // B [K=1, n=5], blocks of 4: the second block is column 4 four times.
  t.deepEqual(Array.from(packBlocksRef([0, 1, 2, 3, 4], { batch: 1, n: 5, k: 1, r: 4, trans: false })), [0, 1, 2, 3, 4, 4, 4, 4]);
  t.throws(() => packedBlocksSize({ batch: 1, n: 8, k: 2, r: 6, trans: false }), { instanceOf: KernelArgError, message: /pack_blocks.*r.*not a multiple of 4/ });
  t.throws(() => packedBlocksSize({ batch: 1, n: 8, k: 2, r: 4, trans: false, nOff: 6, cols: 3 }), { message: /pack_blocks.*cols.*columns 6\.\.8 of a source with 8/ });
  t.throws(() => packedBlocksSize({ batch: 0, n: 8, k: 2, r: 4, trans: false }), { message: /pack_blocks.*batch/ });
  t.throws(() => packedBlocksSize({ batch: 1, n: 8, k: 2, r: 4, trans: false, srcF16: true }), { instanceOf: KernelArgError, message: /^pack_blocks: srcF16: an f16 source packs into f16 blocks only/ });
});

for (const [batch, M, K, trans] of [[1, 1, 1, false], [1, 5, 3, false], [2, 7, 9, true], [3, 8, 4, false], [1, 13, 1, true]] as const) {
  test(`pack_transposed batch=${batch} M=${M} K=${K} trans=${trans}`, async (t) => {
    const ctx = await gpu();
    const a = Rng.fromString(t.title).array(batch * M * K);
    const out = transposePadded(ctx.fromArray(a, [batch * M * K]), trans, batch, M, K);
    t.deepEqual(out.shape, [batch * K * paddedRows(M)]);
    const want = transposePaddedRef(a, trans, batch, M, K);
    if (M % 4) t.is(want[paddedRows(M) - 1], 0, 'padding rows are zero');
    assertEqualInts(t, await out.read(), want, { name: t.title });
  });
}

test('pack_transposed: bad input is named before dispatch', async (t) => {
  const ctx = await gpu();
  const a = ctx.fromArray(new Float32Array(6), [6]);
  t.throws(() => transposePadded(a, false, 1, 4, 2), { instanceOf: KernelArgError, message: /pack_transposed.*a.*6 elements, expected at least 1 x 4 x 2/ });
  t.throws(() => transposePadded(a, false, 1, 0, 2), { message: /pack_transposed.*M/ });
});
