// Exits 0 and prints the adapter when Dawn (npm `webgpu`) finds one, 1 otherwise.
import { mkdirSync } from 'node:fs';
if (!process.env.XDG_RUNTIME_DIR) {
  process.env.XDG_RUNTIME_DIR = `/tmp/xdg-runtime-${process.getuid?.() ?? 'user'}`;
  mkdirSync(process.env.XDG_RUNTIME_DIR, { recursive: true, mode: 0o700 });
}
const { create } = await import('webgpu');
const adapter = await create([]).requestAdapter();
if (!adapter) {
  console.error('no WebGPU adapter');
  process.exit(1);
}
const i = adapter.info;
console.log(`WebGPU adapter: ${[i.vendor, i.architecture, i.device, i.description].filter(Boolean).join(' / ')}`);
process.exit(0);
