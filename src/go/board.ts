/**
 * The Go rules of upstream's battle loop: sgfmill's Board as patched by VideoWorld
 * (`VideoWorld/tools/go_utils/boards.py`, installed over sgfmill by install.sh), on 9x9.
 *
 * - `play` places the stone, then looks at the groups of the new stone and its four neighbours that
 *   have no liberty. One such group is captured whatever its colour: that is how suicide is allowed
 *   (the mover's own group disappears and is listed in the captures). With several, only the
 *   opponent's are captured (the mover's group then has a liberty where they were).
 * - No ko rule: the simple-ko point is only reported.
 * - An occupied point raises (upstream ValueError), a row/col outside 0..side-1 raises (IndexError).
 *
 * Coordinates are sgfmill's (row, col): row 0 is the bottom line "1", col 0 is "A".
 */

export type Colour = 'b' | 'w';

export interface Point {
  row: number;
  col: number;
}

export interface Stone extends Point {
  colour: Colour;
}

export interface PlayResult {
  /** The point a simple-ko rule would forbid next (upstream returns it; nothing enforces it). */
  koPoint: Point | null;
  /** Stones removed by this move, opponent's or (suicide) the mover's own, in row-major order. */
  captures: Point[];
}

export type BoardErrorKind = 'occupied' | 'off-board';

/** What upstream signals with ValueError ('occupied') or IndexError ('off-board'). */
export class BoardError extends Error {
  constructor(
    readonly kind: BoardErrorKind,
    readonly point: Point,
  ) {
    super(`board: ${kind}: row ${point.row}, col ${point.col}${kind === 'occupied' ? ` (${gtpName(point.row, point.col)})` : ''}`);
    this.name = 'BoardError';
  }
}

export const BOARD_SIZE = 9;

export function opponentOf(colour: Colour): Colour {
  return colour === 'b' ? 'w' : 'b';
}

/** 'A'..'J' without 'I' (GTP). */
const COLUMN_LETTERS = 'ABCDEFGHJKLMNOPQRST';

/** GTP vertex name, e.g. (0, 0) = "A1" (bottom left), (8, 8) = "J9", (5, 3) = "D6". */
export function gtpName(row: number, col: number): string {
  const letter = COLUMN_LETTERS[col];
  if (letter === undefined || !Number.isInteger(row) || row < 0) throw new RangeError(`gtpName: no GTP name for row ${row}, col ${col}`);
  return `${letter}${row + 1}`;
}

/**
 * Strict GTP vertex parser (case-insensitive, 'I' rejected) for a board of `side`; null when the
 * text is not a vertex on that board.
 */
export function parseGtp(name: string, side = BOARD_SIZE): Point | null {
  const m = /^\s*([A-HJ-Ta-hj-t])(\d{1,2})\s*$/.exec(name);
  if (!m) return null;
  const col = COLUMN_LETTERS.indexOf(m[1]!.toUpperCase());
  const row = Number(m[2]) - 1;
  return col < side && row >= 0 && row < side ? { row, col } : null;
}

/**
 * Upstream's reading of the human's move (`kata_pos` in the battle loop), kept for faithfulness:
 * `col = ord(c) - 65` unless c is 'J' (then - 66), `row = int(rest) - 1`. So 'I' also names column 8,
 * lower case and letters past J give an off-board column, and `play` then rejects the point.
 * Returns null where Python's int() would raise (upstream re-prompts).
 */
export function parseUpstreamMove(text: string): Point | null {
  const c = text.codePointAt(0);
  if (c === undefined) return null;
  const rest = text.slice(String.fromCodePoint(c).length).trim();
  if (!/^[+-]?\d+(_\d+)*$/.test(rest)) return null;
  return { row: Number.parseInt(rest.replaceAll('_', ''), 10) - 1, col: c - (c === 74 ? 66 : 65) };
}

export class GoBoard {
  private readonly cells: (Colour | null)[];

  constructor(readonly side = BOARD_SIZE) {
    if (!Number.isInteger(side) || side < 2 || side > COLUMN_LETTERS.length) throw new RangeError(`GoBoard: side ${side} (2..${COLUMN_LETTERS.length})`);
    this.cells = new Array<Colour | null>(side * side).fill(null);
  }

  copy(): GoBoard {
    const b = new GoBoard(this.side);
    for (let i = 0; i < this.cells.length; i++) b.cells[i] = this.cells[i]!;
    return b;
  }

  private check(row: number, col: number): void {
    if (!Number.isInteger(row) || !Number.isInteger(col) || row < 0 || col < 0 || row >= this.side || col >= this.side) throw new BoardError('off-board', { row, col });
  }

  get(row: number, col: number): Colour | null {
    this.check(row, col);
    return this.cells[row * this.side + col]!;
  }

  isEmpty(): boolean {
    return this.cells.every((c) => c === null);
  }

  /** Stones in row-major order (sgfmill's list_occupied_points order). */
  stones(): Stone[] {
    const out: Stone[] = [];
    this.cells.forEach((colour, i) => {
      if (colour !== null) out.push({ colour, row: Math.floor(i / this.side), col: i % this.side });
    });
    return out;
  }

  /** The group of (row, col) (cell indices) and whether it has no liberty. */
  private group(start: number): { points: number[]; surrounded: boolean } {
    const n = this.side;
    const colour = this.cells[start];
    const seen = new Set([start]);
    const stack = [start];
    let surrounded = true;
    while (stack.length) {
      const p = stack.pop()!;
      const r = Math.floor(p / n);
      const c = p % n;
      for (const [r1, c1] of [[r - 1, c], [r + 1, c], [r, c - 1], [r, c + 1]] as const) {
        if (r1 < 0 || c1 < 0 || r1 >= n || c1 >= n) continue;
        const q = r1 * n + c1;
        const v = this.cells[q];
        if (v === null) surrounded = false;
        else if (v === colour && !seen.has(q)) {
          seen.add(q);
          stack.push(q);
        }
      }
    }
    return { points: [...seen].sort((a, b) => a - b), surrounded };
  }

  play(row: number, col: number, colour: Colour): PlayResult {
    this.check(row, col);
    const n = this.side;
    const at = row * n + col;
    if (this.cells[at] !== null) throw new BoardError('occupied', { row, col });
    this.cells[at] = colour;
    const surrounded: { colour: Colour; points: number[] }[] = [];
    const handled = new Set<number>();
    for (const [r, c] of [[row, col], [row - 1, col], [row + 1, col], [row, col - 1], [row, col + 1]] as const) {
      if (r < 0 || c < 0 || r >= n || c >= n) continue;
      const q = r * n + c;
      const v = this.cells[q];
      if (v === null || handled.has(q)) continue;
      const g = this.group(q);
      if (g.surrounded) surrounded.push({ colour: v!, points: g.points });
      for (const p of g.points) handled.add(p);
    }
    let koPoint: Point | null = null;
    let toCapture = surrounded;
    if (surrounded.length > 1) {
      toCapture = surrounded.filter((g) => g.colour !== colour);
      const own = surrounded.find((g) => g.colour === colour);
      if (toCapture.length === 1 && toCapture[0]!.points.length === 1 && own?.points.length === 1) {
        const p = toCapture[0]!.points[0]!;
        koPoint = { row: Math.floor(p / n), col: p % n };
      }
    }
    const captured = toCapture.flatMap((g) => g.points).sort((a, b) => a - b);
    for (const p of captured) this.cells[p] = null;
    return { koPoint, captures: captured.map((p) => ({ row: Math.floor(p / n), col: p % n })) };
  }
}

export interface ReplayedMove extends Stone {
  captures: Point[];
}

/**
 * Plays `moves` in order on a fresh board (colours as given: no turn-order check, like upstream's
 * loop which plays 'b' and 'w' itself). Throws BoardError at the first illegal move.
 */
export function replayMoves(moves: readonly Stone[], side = BOARD_SIZE): { board: GoBoard; moves: ReplayedMove[] } {
  const board = new GoBoard(side);
  const out = moves.map((m) => ({ ...m, captures: board.play(m.row, m.col, m.colour).captures }));
  return { board, moves: out };
}
