/** Bundles examples/browser/main.ts and test/browser/page.ts; resolves to the output folder. */
export function buildBrowser(o?: { outdir?: string }): Promise<string>;
