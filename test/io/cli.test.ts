import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseSafetensors } from '../../src/io/safetensors.js';
import { GOLDEN_DIR, loadGolden } from '../helpers/golden.js';
import { TOrderedDict, tensor, torchSave } from '../helpers/pth-writer.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const small = join(GOLDEN_DIR, 'pth', 'go_fsq_small.pth');

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', join(root, 'src', 'cli.ts'), ...args], { cwd: root }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

test('cli: --help, usage errors exit 2, unreadable inputs exit 1', async (t) => {
  const help = await cli('--help');
  t.is(help.code, 0);
  t.regex(help.stdout, /videoworld inspect <file\.pth\|file\.safetensors>/);
  t.regex(help.stdout, /videoworld convert <in\.pth>\.\.\. <out\.safetensors>/);
  t.is((await cli()).code, 2);
  const bad = await cli('frobnicate');
  t.is(bad.code, 2);
  t.regex(bad.stderr, /unknown command 'frobnicate'/);
  t.regex((await cli('convert', small)).stderr, /at least one input \.pth and an output/);
  t.regex((await cli('convert', small, '/tmp/x.bin')).stderr, /must be a \.safetensors file/);
  t.regex((await cli('inspect', '/nonexistent.pth')).stderr, /no such file/);
  const forbidden = await cli('inspect', join(GOLDEN_DIR, 'pth', 'go_fsq_small.forbidden-global.pth'));
  t.is(forbidden.code, 1);
  t.regex(forbidden.stderr, /forbidden global '(posix|os)\.system'/);
});

test('cli: inspect lists tensors, views, layout; convert round-trips bit-exactly; --map renames', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vw-cli-'));
  try {
    const ins = await cli('inspect', small);
    t.is(ins.code, 0, ins.stderr);
    t.regex(ins.stdout, /15 tensors in 'state_dict'/);
    t.regex(ins.stdout, /generator\.decoder\.transposed\s+F32\s+\[7,5\]\s+strided \[1,7\]/);
    t.regex(ins.stdout, /generator\.decoder\.bf16\s+BF16\s+\[3,4\]/);
    t.regex(ins.stdout, /meta: \{"epoch": 1, "iter": 12000/);
    t.regex(ins.stdout, /layout: go_fsq/);
    const out = join(dir, 'small.safetensors');
    const conv = await cli('convert', small, out);
    t.is(conv.code, 0, conv.stderr);
    t.regex(conv.stdout, /wrote .*small\.safetensors: 15 tensors/);
    t.regex(conv.stderr, /100%/);
    const expected = await loadGolden('pth/go_fsq_small.expected.safetensors');
    const got = parseSafetensors(new Uint8Array(readFileSync(out)), out);
    t.deepEqual([...got.names].sort(), [...expected.names].sort());
    for (const n of expected.names) {
      t.deepEqual(got.entry(n).shape, expected.entry(n).shape, n);
      t.is(got.entry(n).dtype, expected.entry(n).dtype, n);
      t.deepEqual(got.raw(n), expected.raw(n), n);
    }
    t.is(got.metadata.source, 'go_fsq_small.pth');
    t.is((await cli('convert', small, out)).code, 2, 'no silent overwrite');
    const mapped = await cli('convert', small, out, '--map', 'go_fsq', '--force');
    t.is(mapped.code, 0, mapped.stderr);
    const m = parseSafetensors(new Uint8Array(readFileSync(out)), out);
    t.deepEqual(m.raw('vbackbone._in_conv.weight'), expected.raw('generator.encoder._in_conv.weight'));
    t.deepEqual(m.raw('v_token.project_in.bias'), expected.raw('generator.quantizer.project_in.bias'));
    t.true(m.has('v_token_decoder.transposed') && m.has('post_encode.conv.weight'));
    t.is(m.names.filter((n) => n.startsWith('generator.')).length, 0);
    const sti = await cli('inspect', out);
    t.is(sti.code, 0, sti.stderr);
    t.regex(sti.stdout, /safetensors, .*15 tensors/);
    t.regex(sti.stdout, /metadata weight_map: go_fsq/);
    // Two inputs merge; a name in both is an error naming the other file.
    const extra = join(dir, 'extra.pth');
    writeFileSync(extra, torchSave(new TOrderedDict([['neck.llm.model.norm.weight', tensor('0', 'F32', [2], Float32Array.of(1, 2))]])));
    const merged = join(dir, 'merged.safetensors');
    t.is((await cli('convert', small, extra, merged)).code, 0);
    t.is(parseSafetensors(new Uint8Array(readFileSync(merged))).names.length, 16);
    const dup = await cli('convert', small, small, join(dir, 'dup.safetensors'));
    t.is(dup.code, 1);
    t.regex(dup.stderr, /tensor 'generator\.encoder\._in_conv\.weight' is also in/);
    const unknown = await cli('convert', extra, join(dir, 'u.safetensors'), '--map', 'go_fsq');
    t.is(unknown.code, 1);
    t.regex(unknown.stderr, /keys the go_fsq table does not know:\nunexpected \(1\):\n  neck\.llm\.model\.norm\.weight \[2\]/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('cli: verify prints one JSON line last and exits 0 only on pass', async (t) => {
  const file = join(GOLDEN_DIR, 'ldm_spatial_up_c8.safetensors');
  const ok = await cli('verify', file);
  t.is(ok.code, 0, ok.stderr);
  const last = JSON.parse(ok.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
  t.deepEqual(Object.keys(last), ['case', 'max_abs_err', 'max_rel_err', 'indices_equal', 'pass', 'tolerance', 'dtype']);
  t.is(last.case, 'ldm_spatial_up_c8');
  t.is(last.pass, true);
  const strict = await cli('verify', file, '--tolerance', '1e-12');
  t.is(strict.code, 1);
  t.is((JSON.parse(strict.stdout.trim().split('\n').pop()!) as { pass: boolean }).pass, false);
  t.is((await cli('verify')).code, 2);
});

test('cli: verify runs a backward golden (gradients vs PyTorch autograd) with the same verdict line', async (t) => {
  const file = join(GOLDEN_DIR, 'grad', 'grad_falcon_vqgan_upsample_c32.safetensors');
  const ok = await cli('verify', file);
  t.is(ok.code, 0, ok.stderr);
  t.regex(ok.stderr, /grad_param\._conv\.weight: max abs err/);
  const last = JSON.parse(ok.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
  t.deepEqual(Object.keys(last), ['case', 'max_abs_err', 'max_rel_err', 'indices_equal', 'pass', 'tolerance', 'dtype']);
  t.is(last.case, 'grad_falcon_vqgan_upsample_c32');
  t.is(last.pass, true);
  t.is(last.tolerance, 1e-4);
  const strict = await cli('verify', file, '--tolerance', '1e-12');
  t.is(strict.code, 1);
});

test('cli: verify --dtype f16 packs the matmul weights as f16 and judges by relative error', async (t) => {
  const file = join(GOLDEN_DIR, 'internlm_decoder_layer.safetensors');
  const f32 = JSON.parse((await cli('verify', file)).stdout.trim().split('\n').pop()!) as Record<string, number | boolean | string>;
  const r = await cli('verify', file, '--dtype', 'f16');
  t.is(r.code, 0, r.stderr);
  const f16 = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, number | boolean | string>;
  t.deepEqual([f16.dtype, f16.tolerance, f16.pass], ['f16', 5e-3, true]);
  // The golden's weights are not f16 values: rounding them moves the outputs, within the bound.
  t.true((f16.max_rel_err as number) > 10 * (f32.max_rel_err as number) && (f16.max_rel_err as number) <= 5e-3, `f16 ${f16.max_rel_err}, f32 ${f32.max_rel_err}`);
  const grad = await cli('verify', join(GOLDEN_DIR, 'grad', 'grad_falcon_vqgan_upsample_c32.safetensors'), '--dtype', 'f16');
  t.is(grad.code, 1);
  t.regex(grad.stderr, /backward golden: training keeps f32 weights, --dtype f16 does not apply/);
  const bad = await cli('verify', file, '--dtype', 'bf16');
  t.is(bad.code, 2);
  t.regex(bad.stderr, /--dtype must be f32 or f16, got 'bf16'/);
});
