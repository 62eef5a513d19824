#!/usr/bin/env node
/**
 * `videoworld` command line: inspect and convert checkpoints without Python; evaluate the Go model.
 *   videoworld inspect <file.pth|file.safetensors>
 *   videoworld convert <in.pth>... <out.safetensors> [--map go_fsq|go_battle|ldm] [--force] [--no-verify]
 *   videoworld verify <golden.safetensors> [--tolerance <x>] [--dtype f32|f16]
 *   videoworld eval-go | move | play ...   (the Go model: src/apps/go-cli.ts, src/apps/go-commands.ts)
 * Exit codes: 0 success, 1 a bad or unreadable file, 2 a usage error.
 */
import { existsSync } from 'node:fs';
import { createNodeContext, readSafetensorsFile } from './node.js';
import { verifyGolden } from './verify.js';
import { GO_HELP, evalGoCommand } from './apps/go-cli.js';
import { GO_PLAY_HELP, moveCommand, playCommand } from './apps/go-commands.js';
import { UsageError } from './apps/usage-error.js';
import { NoAdapterError } from '../kernels/core/errors.js';
import { isWeightDtype } from '../kernels/index.js';
import { basename, resolve } from 'node:path';
import { openPthFile, readSafetensorsHeaderFile, writeSafetensorsStream } from './io/file-node.js';
import { summarizePy, PyDict } from './io/pickle.js';
import { type PthCheckpoint, PthError } from './io/pth.js';
import { SAFETENSORS_DTYPES, SafetensorsError, type TensorSpec } from './io/safetensors.js';
import { inferTransformerConfig } from './models/videoworld/infer-config.js';
import { type WeightMap, WEIGHT_MAPS, WeightMapError, detectWeightMap, formatKeyReport, mapKeys } from './models/videoworld/weight-map.js';

const HELP = `videoworld: inspect and convert VideoWorld checkpoints (no Python needed)

Usage:
  videoworld inspect <file.pth|file.safetensors>
      Lists every tensor (name, dtype, shape), the checkpoint's other entries, which upstream
      layout the names follow, and the transformer config inferred from the shapes.
  videoworld convert <in.pth>... <out.safetensors> [options]
      Writes the state-dict tensors of one or more torch.save checkpoints into one safetensors
      file (contiguous, row-major, dtypes kept), streaming one tensor at a time.
      --map <${Object.keys(WEIGHT_MAPS).join('|')}>   rename upstream keys to our module names
                          (ignored keys are dropped; keys the table does not know are an error)
      --force             overwrite an existing output file
      --no-verify         skip CRC-32 checks of the stored tensor data
  videoworld verify <golden.safetensors> [--tolerance <x>] [--dtype f32|f16]
      Builds the module named in a golden-format file's metadata (weights stored, or regenerated
      with hinit-v1 from init_manifest and checked against weights_manifest), runs it on the
      file's inputs on the WebGPU adapter and compares with its outputs. Prints per-output errors
      on stderr and one JSON line last on stdout:
      {"case","max_abs_err","max_rel_err","indices_equal","pass","tolerance","dtype"}. Exit 0 only on pass.
      --dtype f16 packs the weights as f16 (f32 math; default f32 here): then every float output passes at
      max_rel_err <= 5e-3 and integer outputs at <= 1% mismatched (--tolerance: absolute instead).
      Backward files (golden/grad/*, metadata kind "backward") run the module in training mode on
      an autograd tape, backpropagate the stored incoming gradient and compare every input and
      parameter gradient; there the tolerance bounds max_rel_err (error / max |ref| per tensor).
${GO_HELP}${GO_PLAY_HELP}  videoworld --help

Exit codes: 0 success, 1 unreadable or invalid input, 2 usage error.
`;


const mb = (n: number) => `${(n / 1e6).toFixed(n < 1e7 ? 2 : 1)} MB`;
const shapeStr = (s: number[]) => `[${s.join(',')}]`;

function table(rows: string[][]): string {
  const w = rows[0]?.map((_, c) => Math.max(...rows.map((r) => r[c]!.length))) ?? [];
  return rows.map((r) => r.map((x, c) => (c === r.length - 1 ? x : x.padEnd(w[c]!))).join('  ').trimEnd()).join('\n');
}

function describeLayout(names: string[], shapes: Map<string, number[]>): string[] {
  const out: string[] = [];
  const map = detectWeightMap(names);
  if (map) {
    const m = mapKeys(names, map);
    out.push(`layout: ${map.id} (${map.description})`);
    out.push(`  ${m.mapped.size} keys map to our modules, ${m.ignored.length} ignored, ${m.shadowed.length} shadowed, ${m.unmatched.length} unknown`);
    for (const k of m.unmatched.slice(0, 20)) out.push(`  unknown: ${k} ${shapeStr(shapes.get(k)!)}`);
    if (m.unmatched.length > 20) out.push(`  ... and ${m.unmatched.length - 20} more unknown`);
  } else {
    out.push('layout: no known VideoWorld layout');
  }
  const cfg = inferTransformerConfig(shapes);
  if (cfg) {
    out.push(`transformer (${cfg.prefix}*): layers ${cfg.numLayers}, hidden ${cfg.hiddenSize}, intermediate ${cfg.intermediateSize}, vocab ${cfg.vocabSize}, ` +
      `head_dim ${cfg.headDim ?? 'unknown (no rotary_emb.inv_freq)'}, heads ${cfg.numHeads ?? 'unknown'}, qkv bias ${cfg.qkvBias}, o bias ${cfg.oBias}, lm_head ${cfg.tiedLmHead ? 'tied' : 'separate'}`);
    for (const p of cfg.problems.slice(0, 20)) out.push(`  problem: ${p}`);
    if (cfg.problems.length > 20) out.push(`  ... and ${cfg.problems.length - 20} more problems`);
  }
  return out;
}

async function inspect(args: string[]): Promise<void> {
  if (args.length !== 1) throw new UsageError('inspect takes exactly one file');
  const path = args[0]!;
  if (!existsSync(path)) throw new UsageError(`no such file: ${path}`);
  const lines: string[] = [];
  const rows: string[][] = [['name', 'dtype', 'shape', 'note']];
  const shapes = new Map<string, number[]>();
  let bytes = 0;
  if (path.endsWith('.safetensors')) {
    const h = await readSafetensorsHeaderFile(path);
    lines.push(`${path}: safetensors, ${mb(h.size)}, ${h.entries.size} tensors`);
    for (const [k, v] of Object.entries(h.metadata)) lines.push(`metadata ${k}: ${v.length > 100 ? `${v.slice(0, 97)}...` : v}`);
    for (const e of h.entries.values()) {
      rows.push([e.name, e.dtype, shapeStr(e.shape), '']);
      shapes.set(e.name, e.shape);
      bytes += e.end - e.begin;
    }
  } else {
    const ck = await openPthFile(path);
    try {
      lines.push(`${path}: torch.save zip checkpoint, ${ck.tensors.size} tensors in ${ck.stateDictKey ? `'${ck.stateDictKey}'` : 'the top-level dict'}`);
      if (ck.root instanceof PyDict && ck.stateDictKey) {
        for (const k of ck.otherKeys) lines.push(`${k}: ${summarizePy(ck.root.get(k), 3, 6)}`);
      }
      if (ck.nonTensorKeys.length) lines.push(`non-tensor state-dict entries (skipped): ${ck.nonTensorKeys.join(', ')}`);
      const storageUsers = new Map<string, number>();
      for (const t of ck.tensors.values()) storageUsers.set(t.storage.key, (storageUsers.get(t.storage.key) ?? 0) + 1);
      for (const [name, t] of ck.tensors) {
        const notes: string[] = [];
        if (!t.contiguous) notes.push(`strided ${shapeStr(t.stride)}`);
        if (t.offset || t.numel !== t.storage.numel) notes.push(`view at ${t.offset} of storage ${t.storage.key}`);
        if ((storageUsers.get(t.storage.key) ?? 0) > 1) notes.push('shared storage');
        rows.push([name, t.dtype, shapeStr(t.shape), notes.join(', ')]);
        shapes.set(name, t.shape);
        bytes += t.nbytes;
      }
    } finally {
      await ck.close();
    }
  }
  const dtypes = new Map<string, number>();
  for (const r of rows.slice(1)) dtypes.set(r[1]!, (dtypes.get(r[1]!) ?? 0) + 1);
  lines.push(`tensor data: ${mb(bytes)} (${[...dtypes].map(([d, n]) => `${n} ${d}`).join(', ')}), ${[...shapes.values()].reduce((a, s) => a + s.reduce((x, y) => x * y, 1), 0)} elements`);
  process.stdout.write(`${lines.join('\n')}\n\n${table(rows)}\n\n${describeLayout([...shapes.keys()], shapes).join('\n')}\n`);
}

function progressBar(): (done: number, total: number) => void {
  const t0 = performance.now();
  const tty = process.stderr.isTTY === true;
  let lastDecile = -1;
  return (done, total) => {
    const f = total ? done / total : 1;
    const secs = (performance.now() - t0) / 1000;
    const rate = secs > 0 ? `${(done / 1e6 / secs).toFixed(0)} MB/s` : '';
    const width = 30;
    const line = `[${'#'.repeat(Math.round(f * width)).padEnd(width)}] ${(f * 100).toFixed(0).padStart(3)}% ${mb(done)} / ${mb(total)} ${rate}`;
    if (tty) process.stderr.write(`\r${line}${done >= total ? '\n' : ''}`);
    else if (Math.floor(f * 10) > lastDecile) {
      lastDecile = Math.floor(f * 10);
      process.stderr.write(`${line}\n`);
    }
  };
}

async function convert(args: string[]): Promise<void> {
  let force = false;
  let verify = true;
  let map: WeightMap | null = null;
  const files: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--force') force = true;
    else if (a === '--no-verify') verify = false;
    else if (a === '--map') {
      const id = args[++i];
      if (!id || !(id in WEIGHT_MAPS)) throw new UsageError(`--map needs one of ${Object.keys(WEIGHT_MAPS).join(', ')}`);
      map = WEIGHT_MAPS[id as keyof typeof WEIGHT_MAPS];
    } else if (a.startsWith('--')) throw new UsageError(`unknown option ${a}`);
    else files.push(a);
  }
  if (files.length < 2) throw new UsageError('convert needs at least one input .pth and an output .safetensors');
  const out = files.pop()!;
  if (!out.endsWith('.safetensors')) throw new UsageError(`the output must be a .safetensors file, got ${out}`);
  if (files.some((f) => resolve(f) === resolve(out))) throw new UsageError('the output is also an input');
  if (existsSync(out) && !force) throw new UsageError(`${out} exists (use --force to overwrite)`);
  for (const f of files) if (!existsSync(f)) throw new UsageError(`no such file: ${f}`);

  const cks: PthCheckpoint[] = [];
  try {
    const from = new Map<string, { ck: PthCheckpoint; name: string }>();
    for (const f of files) {
      const ck = await openPthFile(f, { verifyCrc: verify });
      cks.push(ck);
      let pairs: [string, string][] = ck.names.map((n) => [n, n]);
      if (map) {
        const m = mapKeys(ck.names, map);
        if (m.unmatched.length) {
          const report = { missing: [], mismatched: [], ok: false, unexpected: m.unmatched.map((n) => ({ name: n, shape: ck.get(n).shape })) };
          throw new WeightMapError(`${f}: keys the ${map.id} table does not know:\n${formatKeyReport(report)}`, report);
        }
        pairs = [...m.mapped];
      }
      for (const [ours, theirs] of pairs) {
        const prev = from.get(ours);
        if (prev) throw new PthError(f, `tensor '${ours}' is also in ${prev.ck.source}`);
        from.set(ours, { ck, name: theirs });
      }
    }
    const specs: TensorSpec[] = [...from].map(([name, { ck, name: src }]) => ({ name, dtype: ck.get(src).dtype, shape: ck.get(src).shape }));
    const t0 = performance.now();
    const bar = progressBar();
    const layout = await writeSafetensorsStream(
      out,
      specs,
      async (spec) => {
        const { ck, name } = from.get(spec.name)!;
        return (await ck.read(name)).data;
      },
      { metadata: { format: 'pt', source: files.map((f) => basename(f)).join(','), ...(map ? { weight_map: map.id } : {}) }, onProgress: bar },
    );
    const secs = (performance.now() - t0) / 1000;
    const total = layout.header.byteLength + layout.dataBytes;
    const dtypes = new Set(specs.map((s) => s.dtype));
    process.stdout.write(`wrote ${out}: ${specs.length} tensors (${[...dtypes].sort((a, b) => SAFETENSORS_DTYPES[b] - SAFETENSORS_DTYPES[a]).join(', ')}), ${mb(total)} in ${secs.toFixed(2)} s (${(total / 1e6 / Math.max(secs, 1e-9)).toFixed(0)} MB/s)\n`);
  } finally {
    for (const ck of cks) await ck.close();
  }
}

async function verify(args: string[]): Promise<number> {
  const ti = args.indexOf('--tolerance');
  const tolerance = ti >= 0 ? Number(args[ti + 1]) : undefined;
  if (tolerance !== undefined && !(tolerance > 0)) throw new UsageError(`--tolerance needs a positive number, got '${args[ti + 1]}'`);
  const di = args.indexOf('--dtype');
  const dtype = di >= 0 ? args[di + 1] : 'f32';
  if (!isWeightDtype(dtype)) throw new UsageError(`--dtype must be f32 or f16, got '${String(dtype)}'`);
  const files = args.filter((a, i) => !a.startsWith('--') && (ti < 0 || i !== ti + 1) && (di < 0 || i !== di + 1));
  if (files.length !== 1) throw new UsageError('verify takes exactly one <golden.safetensors>');
  const file = resolve(files[0]!);
  const g = await readSafetensorsFile(file);
  process.stderr.write(`verify ${basename(file)}: case ${g.metadata.case ?? '?'}, module ${g.metadata.module ?? '?'}\n`);
  const ctx = await createNodeContext();
  try {
    const r = await verifyGolden(ctx, g, { tolerance, dtype });
    for (const o of r.outputs) {
      process.stderr.write(o.exact ? `  ${o.name}: ${o.mismatches} mismatched integers\n` : `  ${o.name}: max abs err ${o.max_abs_err.toExponential(3)}, max rel err ${o.max_rel_err.toExponential(3)}\n`);
    }
    if (r.near_tie_mismatches) process.stderr.write(`  ${r.near_tie_mismatches} integer mismatches at documented rounding ties (accepted)\n`);
    process.stderr.write(`  ${r.seconds.toFixed(1)} s on ${ctx.adapterInfo}\n`);
    const line = { case: r.case, max_abs_err: r.max_abs_err, max_rel_err: r.max_rel_err, indices_equal: r.indices_equal, pass: r.pass, tolerance: r.tolerance, dtype: r.dtype };
    process.stdout.write(JSON.stringify(line) + '\n');
    return r.pass ? 0 : 1;
  } finally {
    await ctx.destroy();
  }
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help' || rest.includes('--help')) {
      process.stdout.write(HELP);
      return cmd === undefined ? 2 : 0;
    }
    if (cmd === 'inspect') await inspect(rest);
    else if (cmd === 'convert') await convert(rest);
    else if (cmd === 'verify') return await verify(rest);
    else if (cmd === 'eval-go') return await evalGoCommand(rest);
    else if (cmd === 'move') return await moveCommand(rest);
    else if (cmd === 'play') return await playCommand(rest);
    else throw new UsageError(`unknown command '${cmd}'`);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`videoworld: ${e.message}\nRun 'videoworld --help' for usage.\n`);
      return 2;
    }
    // NoAdapterError: no `webgpu` package or no adapter; its message says what to install.
    if (e instanceof PthError || e instanceof SafetensorsError || e instanceof WeightMapError || e instanceof NoAdapterError) {
      process.stderr.write(`videoworld: ${e.message}\n`);
      return 1;
    }
    const err = e as NodeJS.ErrnoException;
    if (err.code && err.syscall) {
      process.stderr.write(`videoworld: ${err.message}\n`);
      return 1;
    }
    throw e;
  }
}

process.exitCode = await main(process.argv.slice(2));
