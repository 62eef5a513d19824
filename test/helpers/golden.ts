import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SafetensorsFile } from '../../src/io/safetensors.js';
import { readSafetensorsFile } from '../../src/node.js';

/** ../shared/golden beside the checkout (override with VIDEOWORLD_GOLDEN). */
export const GOLDEN_DIR = process.env.VIDEOWORLD_GOLDEN ?? join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared', 'golden');

export function goldenPath(name: string): string {
  const p = join(GOLDEN_DIR, name.endsWith('.safetensors') || name.includes('/') ? name : `${name}.safetensors`);
  if (!existsSync(p)) throw new Error(`golden file missing: ${p} (the tests need ../shared/golden beside the checkout, or VIDEOWORLD_GOLDEN)`);
  return p;
}

export function loadGolden(name: string): Promise<SafetensorsFile> {
  return readSafetensorsFile(goldenPath(name));
}
