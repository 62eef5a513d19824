/** Every failure of the .pth reader (zip container, pickle, tensor layout) is a PthError naming the file. */
export class PthError extends Error {
  constructor(source: string, detail: string) {
    super(`pth ${source}: ${detail}`);
    this.name = 'PthError';
  }
}
