/** What wgsl/embed.mjs reflects from a `.wgsl` file (see kernels/wgsl.gen.ts). */
export interface ShaderBinding {
  name: string;
  binding: number;
  kind: 'uniform' | 'storage' | 'read-only-storage';
}
export interface ParamField {
  name: string;
  type: 'u32' | 'i32' | 'f32';
  offset: number;
}
export interface ShaderInfo {
  id: string;
  entry: string;
  code: string;
  bindings: ShaderBinding[];
  overrides: { name: string; type: string }[];
  /** Layout of the WGSL `struct Params` (4-byte scalars only), or null if the shader has none. */
  params: { fields: ParamField[]; size: number } | null;
}
