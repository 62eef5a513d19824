// How well the two move readers read a generated board: upstream's morphology on the difference
// image (`--reader upstream`, src/go/extract.ts) and the per-intersection classifier + board diff
// (`--reader grid`, src/go/read.ts). Cases: the 112 golden pairs of ../shared/golden/go/extract
// (upstream's own results), then seeded boards of our own: single moves under pixel noise,
// captures, two new stones, no change, and micro's 20 px grid images.
//
//   npx tsx scripts/bench-go-readers.ts [--per-row 40] [--seed 1]
//
// Prints a markdown table. correct: the intended move; where none was intended (no change, two
// stones, a stone in the other colour, an erased stone), a refusal or a pass. wrong: any other
// point (the battle loop plays it, or retries when the point is occupied). refused: no move read
// although one was intended.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type Colour, GoBoard, type Point } from '../src/go/board.js';
import { GoGame } from '../src/go/engine.js';
import { locateNewStone } from '../src/go/extract.js';
import { type RasterImage, decodePng, toRgb } from '../src/go/png.js';
import { readBoard, readMove, renderGrid } from '../src/go/read.js';
import { BOARD_IMAGE_SIZE, battleView, renderBoard } from '../src/go/render.js';
import { SeededRng } from '../src/graph/rng.js';
import { resizeImage } from '../src/models/videoworld/go-player.js';

const { values: o } = parseArgs({ options: { 'per-row': { type: 'string', default: '40' }, seed: { type: 'string', default: '1' } } });
const perRow = Number(o['per-row']);
const rng = new SeededRng(Number(o.seed));
const GOLDEN = join(process.env.VIDEOWORLD_GOLDEN ?? join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'shared', 'golden'), 'go', 'extract');

/** One reading task: the position before, the mover, both images, and the intended move (null: none). */
interface Case {
  before: GoBoard;
  mover: Colour;
  beforeImage: RasterImage;
  after: RasterImage;
  intended: Point | null;
}

type Outcome = 'correct' | 'wrong' | 'refused';

function judge(intended: Point | null, read: Point | null | 'refused'): Outcome {
  if (intended === null) return read === null || read === 'refused' ? 'correct' : 'wrong';
  if (read === 'refused' || read === null) return 'refused';
  return read.row === intended.row && read.col === intended.col ? 'correct' : 'wrong';
}

function upstreamRead(c: Case): Point | null | 'refused' {
  const big = (img: RasterImage) => (img.width === BOARD_IMAGE_SIZE ? img : resizeImage(img, BOARD_IMAGE_SIZE));
  const r = locateNewStone(c.beforeImage, big(c.after));
  return r.ok ? { row: r.row, col: r.col } : 'refused';
}

function gridRead(c: Case): Point | null | 'refused' {
  const r = readMove(c.before, c.mover, readBoard(c.after));
  return r.ok ? r.move : 'refused';
}

const READERS = { upstream: upstreamRead, grid: gridRead };

function gaussian(): number {
  return Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
}

function noisy(img: RasterImage, sigma: number): RasterImage {
  if (!sigma) return img;
  return { ...img, data: img.data.map((v) => Math.min(255, Math.max(0, Math.round(v + sigma * gaussian())))) };
}

/** A position after 0..40 random legal moves (standard rules), not over. */
function randomGame(maxMoves = 40): GoGame {
  const g = new GoGame();
  const n = rng.int(maxMoves + 1);
  for (let i = 0; i < n; i++) {
    const legal = g.legalMoves();
    g.play(legal.length ? legal[rng.int(legal.length)]! : null);
    if (g.isOver()) return randomGame(maxMoves);
  }
  return g;
}

function captures(g: GoGame, m: Point): boolean {
  const n = g.play(m).captures.length;
  g.undo();
  return n > 0;
}

function pick<T>(xs: T[]): T {
  return xs[rng.int(xs.length)]!;
}

/** The case for `moves` (stones placed for the mover, captures applied) from game g's position. */
function ownCase(g: GoGame, moves: Point[], sigma: number, grid = false): Case {
  const before = g.board();
  const mover = g.toPlay;
  const after = before.copy();
  for (const m of moves) after.play(m.row, m.col, mover);
  const render = (b: GoBoard) => (grid ? renderGrid(b, 2) : renderBoard(b));
  const beforeImage = battleView(renderBoard(before));
  return { before, mover, beforeImage, after: noisy(render(after), sigma), intended: moves.length === 1 ? moves[0]! : null };
}

function goldenCases(): Map<string, Case[]> {
  interface Pair {
    category: string;
    before: string;
    after: string;
    new_moves: { colour: Colour; row: number; col: number }[];
    board_before: { colour: Colour; row: number; col: number }[];
  }
  const pairs = (JSON.parse(readFileSync(join(GOLDEN, 'extract.json'), 'utf8')) as { pairs: Pair[] }).pairs;
  const image = (f: string) => toRgb(decodePng(readFileSync(join(GOLDEN, f))));
  const rows = new Map<string, Case[]>();
  for (const p of pairs) {
    const before = new GoBoard();
    for (const s of p.board_before) before.play(s.row, s.col, s.colour);
    const c: Case = { before, mover: p.new_moves[0]?.colour ?? 'b', beforeImage: image(p.before), after: image(p.after), intended: p.new_moves.length === 1 ? p.new_moves[0]! : null };
    const key = `golden: ${p.category.replace(/_/g, ' ')}`;
    rows.set(key, [...(rows.get(key) ?? []), c]);
  }
  return rows;
}

function ownCases(): Map<string, Case[]> {
  const rows = new Map<string, Case[]>();
  const row = (name: string, make: () => Case) => rows.set(name, Array.from({ length: perRow }, make));
  for (const sigma of [0, 8, 16, 32, 48, 64]) row(`own: one move (no capture), noise σ ${sigma}`, () => {
    const g = randomGame();
    return ownCase(g, [pick(g.legalMoves().filter((m) => !captures(g, m)))], sigma);
  });
  row('own: captures, noise σ 8', () => {
    for (;;) {
      const g = randomGame(60);
      const capturing = g.legalMoves().filter((m) => captures(g, m));
      if (capturing.length) return ownCase(g, [pick(capturing)], 8);
    }
  });
  row('own: two new stones, noise σ 8', () => {
    const g = randomGame();
    const legal = g.legalMoves();
    const a = legal.splice(rng.int(legal.length), 1)[0]!;
    return ownCase(g, [a, pick(legal)], 8);
  });
  row('own: no change, noise σ 16', () => ownCase(randomGame(), [], 16));
  row('own: micro 20 px grid images, noise σ 8', () => {
    const g = randomGame();
    return ownCase(g, [pick(g.legalMoves())], 8, true);
  });
  return rows;
}

const all = new Map([...goldenCases(), ...ownCases()]);
const ms: Record<string, number> = { upstream: 0, grid: 0 };
let total = 0;
const lines = ['| cases | n | upstream correct | wrong | refused | grid correct | wrong | refused |', '|---|---|---|---|---|---|---|---|'];
for (const [name, cases] of all) {
  const cells: number[] = [];
  for (const [reader, read] of Object.entries(READERS)) {
    const count = { correct: 0, wrong: 0, refused: 0 };
    const t0 = performance.now();
    for (const c of cases) count[judge(c.intended, read(c))]++;
    ms[reader]! += performance.now() - t0;
    cells.push(count.correct, count.wrong, count.refused);
  }
  total += cases.length;
  lines.push(`| ${name} | ${cases.length} | ${cells.join(' | ')} |`);
}
console.log(lines.join('\n'));
console.log(`\n${total} cases; mean time per reading: upstream ${(ms.upstream! / total).toFixed(1)} ms, grid ${(ms.grid! / total).toFixed(1)} ms (seed ${o.seed})`);
