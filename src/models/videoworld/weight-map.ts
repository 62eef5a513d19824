/**
 * Upstream checkpoint names -> our module names (videoworld-spec section 9), in one place.
 *
 * Our modules take the attribute names of the upstream battle model (`VideoWorldGoBattle*`), so
 * `go_battle.pth` maps onto itself and `go_fsq.pth` (the tokenizer trained alone, keys under
 * `generator.*`) is renamed into the same namespace. The LDM maps its generator under `ldm.`,
 * preferring the EMA copy (`generator_ema.module.*`) that upstream samples from.
 *
 * The tables only rename; `checkKeys` then compares the renamed checkpoint with the key list
 * (names and shapes) a module expects and reports unknown, missing and mis-shaped keys, so that a
 * wrong file fails with the whole list before any weight is uploaded.
 */

export interface PrefixRule {
  from: string;
  to: string;
}

export interface WeightMap {
  id: string;
  description: string;
  /** Applied to each key in order, first match wins; if two keys land on one name the earlier rule's key is kept. */
  rules: PrefixRule[];
  /** Prefixes of keys known to be unused (EMA copies, discriminators, counters). */
  ignore: string[];
  /** mmengine strips a leading `module.` (DataParallel) before loading. */
  stripModule: boolean;
}

export const WEIGHT_MAPS = {
  go_fsq: {
    id: 'go_fsq',
    description: 'go_fsq.pth: the image tokenizer (VQGenerator: VQGAN encoder/decoder, conv connectors, FSQ projections)',
    rules: [
      { from: 'generator.encoder.', to: 'vbackbone.' },
      { from: 'generator.decoder.', to: 'v_token_decoder.' },
      { from: 'generator.post_encoder.', to: 'post_encode.' },
      { from: 'generator.pre_decoder.', to: 'pre_decode.' },
      { from: 'generator.quantizer.', to: 'v_token.' },
    ],
    ignore: ['generator_ema.', 'discriminator.'],
    stripModule: true,
  },
  go_battle: {
    id: 'go_battle',
    description: 'go_battle.pth: the full battle model (tokenizer + InternLM transformer under neck.llm)',
    rules: ['vbackbone.', 'v_token_decoder.', 'v_token.', 'post_encode.', 'pre_decode.', 'neck.llm.'].map((p) => ({ from: p, to: p })),
    ignore: ['data_preprocessor.'],
    stripModule: true,
  },
  ldm: {
    id: 'ldm',
    description: 'LDM checkpoint (MagVitVQGAN generator; EMA weights preferred)',
    rules: [
      { from: 'generator_ema.module.', to: 'ldm.' },
      { from: 'generator.', to: 'ldm.' },
    ],
    ignore: ['generator_ema.steps', 'discriminator.'],
    stripModule: true,
  },
} as const satisfies Record<string, WeightMap>;

export type WeightMapId = keyof typeof WEIGHT_MAPS;

export interface KeyMapping {
  /** Our name -> checkpoint name. */
  mapped: Map<string, string>;
  /** Checkpoint keys under an ignored prefix. */
  ignored: string[];
  /** Checkpoint keys no rule or ignore prefix covers. */
  unmatched: string[];
  /** Checkpoint keys that map to a name an earlier rule's key already took (e.g. non-EMA when EMA exists). */
  shadowed: string[];
}

export function mapKeys(names: Iterable<string>, map: WeightMap): KeyMapping {
  const mapped = new Map<string, string>();
  const ruleOf = new Map<string, number>();
  const out: KeyMapping = { mapped, ignored: [], unmatched: [], shadowed: [] };
  for (const name of names) {
    const key = map.stripModule && name.startsWith('module.') ? name.slice(7) : name;
    const r = map.rules.findIndex((rule) => key.startsWith(rule.from));
    if (r < 0) {
      (map.ignore.some((p) => key.startsWith(p)) ? out.ignored : out.unmatched).push(name);
      continue;
    }
    const rule = map.rules[r]!;
    const target = rule.to + key.slice(rule.from.length);
    const prev = ruleOf.get(target);
    if (prev !== undefined && prev <= r) {
      out.shadowed.push(name);
      continue;
    }
    if (prev !== undefined) out.shadowed.push(mapped.get(target)!);
    mapped.set(target, name);
    ruleOf.set(target, r);
  }
  return out;
}

/** The table whose rules cover the most keys, or null when none covers any. */
export function detectWeightMap(names: string[]): WeightMap | null {
  let best: WeightMap | null = null;
  let bestCount = 0;
  for (const m of Object.values(WEIGHT_MAPS)) {
    const n = mapKeys(names, m).mapped.size;
    if (n > bestCount) [best, bestCount] = [m, n];
  }
  return best;
}

export interface KeyReport {
  missing: { name: string; shape: number[] }[];
  unexpected: { name: string; shape: number[]; source?: string }[];
  mismatched: { name: string; expected: number[]; actual: number[]; source?: string }[];
  ok: boolean;
}

/** Compares renamed checkpoint shapes with what a module expects. */
export function checkKeys(actual: Map<string, number[]>, expected: Map<string, number[]>, sourceOf?: Map<string, string>): KeyReport {
  const r: KeyReport = { missing: [], unexpected: [], mismatched: [], ok: true };
  for (const [name, shape] of expected) {
    const got = actual.get(name);
    if (!got) r.missing.push({ name, shape });
    else if (got.length !== shape.length || got.some((d, i) => d !== shape[i])) r.mismatched.push({ name, expected: shape, actual: got, source: sourceOf?.get(name) });
  }
  for (const [name, shape] of actual) if (!expected.has(name)) r.unexpected.push({ name, shape, source: sourceOf?.get(name) });
  r.ok = !r.missing.length && !r.unexpected.length && !r.mismatched.length;
  return r;
}

const fmt = (s: number[]) => `[${s.join(',')}]`;

export function formatKeyReport(r: KeyReport, limit = 50): string {
  const lines: string[] = [];
  const section = <T>(title: string, xs: T[], line: (x: T) => string) => {
    if (!xs.length) return;
    lines.push(`${title} (${xs.length}):`);
    for (const x of xs.slice(0, limit)) lines.push(`  ${line(x)}`);
    if (xs.length > limit) lines.push(`  ... and ${xs.length - limit} more`);
  };
  section('missing', r.missing, (x) => `${x.name} ${fmt(x.shape)}`);
  section('unexpected', r.unexpected, (x) => `${x.name} ${fmt(x.shape)}${x.source && x.source !== x.name ? ` (from ${x.source})` : ''}`);
  section('shape mismatch', r.mismatched, (x) => `${x.name}: checkpoint ${fmt(x.actual)}, expected ${fmt(x.expected)}${x.source && x.source !== x.name ? ` (from ${x.source})` : ''}`);
  return lines.join('\n');
}

/** Thrown when checkpoint keys do not match the model's: carries the KeyReport (formatKeyReport prints it). */
export class WeightMapError extends Error {
  constructor(
    message: string,
    readonly report: KeyReport,
  ) {
    super(message);
    this.name = 'WeightMapError';
  }
}

/**
 * Renames checkpoint keys with `map` and checks them against `expected`; throws a WeightMapError
 * listing every unknown (unmatched or unexpected), missing and mis-shaped key. Returns our name ->
 * checkpoint name for the loader.
 */
export function resolveWeights(shapes: Map<string, number[]>, map: WeightMap, expected: Map<string, number[]>): Map<string, string> {
  const m = mapKeys(shapes.keys(), map);
  const renamed = new Map<string, number[]>();
  for (const [ours, theirs] of m.mapped) renamed.set(ours, shapes.get(theirs)!);
  const report = checkKeys(renamed, expected, m.mapped);
  for (const name of m.unmatched) report.unexpected.push({ name, shape: shapes.get(name)!, source: name });
  report.ok &&= m.unmatched.length === 0;
  if (!report.ok) throw new WeightMapError(`weights do not match the ${map.id} layout:\n${formatKeyReport(report)}`, report);
  return m.mapped;
}
