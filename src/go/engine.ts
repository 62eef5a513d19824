/**
 * A fast Go game state for play and Monte-Carlo playouts. `GoGame` is the rules-checked game
 * (standard: no suicide, positional superko; upstream: exactly `GoBoard`'s rules), `FastBoard` the
 * flat typed-array board under it that the players' playouts also use. Browser-safe.
 */

import { SeededRng } from '../graph/rng.js';
import { BOARD_SIZE, GoBoard, gtpName, opponentOf, type Colour, type Point } from './board.js';

/** standard: no suicide, positional superko. upstream: `GoBoard`'s rules (suicide allowed, no ko). */
export type Rules = 'standard' | 'upstream';

export const EMPTY = 0;
export const BLACK = 1;
export const WHITE = 2;
export const EDGE = 3;
/** Cell 0 is a border cell, so it can never be a point: it stands for a pass. */
export const PASS = 0;

const MAX_SIDE = 19;

interface Zobrist {
  lo: Int32Array;
  hi: Int32Array;
}
const zobristTables = new Map<number, Zobrist>();

/** Fixed per board size so keys are comparable across games and runs. */
function zobrist(cells: number): Zobrist {
  let z = zobristTables.get(cells);
  if (!z) {
    const rng = new SeededRng(0x9e3779b9 ^ cells);
    z = { lo: new Int32Array(3 * cells), hi: new Int32Array(3 * cells) };
    for (let i = 0; i < 3 * cells; i++) {
      z.lo[i] = (rng.next() * 4294967296) | 0;
      z.hi[i] = (rng.next() * 4294967296) | 0;
    }
    zobristTables.set(cells, z);
  }
  return z;
}

/** 53 bits of the two 32-bit Zobrist halves: exact as a JS number, so usable as a Map key. */
function combineKey(lo: number, hi: number): number {
  return (hi & 0x1fffff) * 4294967296 + (lo >>> 0);
}

/**
 * A padded (side+2)^2 board: cell p = (row+1)*stride + col+1, border cells are EDGE. Groups are
 * circular stone lists with pseudo-liberties (one per stone-empty adjacency) plus the sum and sum of
 * squares of those liberty cells: a group is in atari exactly when all its pseudo-liberties are the
 * same cell, i.e. count * sum2 === sum^2, and that cell is sum / count. No rules policy here beyond
 * capture: callers decide what is legal.
 */
export class FastBoard {
  readonly side: number;
  readonly stride: number;
  readonly cells: number;
  readonly color: Uint8Array;
  /** The group's head cell, for stones. */
  readonly gid: Int16Array;
  readonly nextStone: Int16Array;
  /** Per group head: pseudo-liberty count, sum and sum of squares of their cells, stone count. */
  readonly libs: Int32Array;
  readonly libSum: Int32Array;
  readonly libSum2: Int32Array;
  readonly gsize: Int16Array;
  /** The empty points, unordered, and each empty point's index in that list. */
  readonly empties: Int16Array;
  readonly emptyAt: Int16Array;
  nEmpty = 0;
  /** The stones the last `play` removed (the mover's own on suicide), in removal order. */
  readonly captured: Int16Array;
  nCaptured = 0;
  /** The simple-ko point the next player may not take (0: none). Only playouts honour it. */
  ko = 0;
  hashLo = 0;
  hashHi = 0;
  /** Neighbour offsets and diagonal offsets. */
  readonly dirs: Int32Array;
  readonly diags: Int32Array;
  private readonly mark: Int32Array;
  private stamp = 0;
  private readonly stack: Int16Array;
  private readonly z: Zobrist;

  constructor(side = BOARD_SIZE) {
    if (!Number.isInteger(side) || side < 2 || side > MAX_SIDE) throw new RangeError(`FastBoard: side ${side} (2..${MAX_SIDE})`);
    this.side = side;
    const w = side + 2;
    this.stride = w;
    this.cells = w * w;
    const n = this.cells;
    this.color = new Uint8Array(n).fill(EDGE);
    this.gid = new Int16Array(n);
    this.nextStone = new Int16Array(n);
    this.libs = new Int32Array(n);
    this.libSum = new Int32Array(n);
    this.libSum2 = new Int32Array(n);
    this.gsize = new Int16Array(n);
    this.empties = new Int16Array(side * side);
    this.emptyAt = new Int16Array(n);
    this.captured = new Int16Array(side * side);
    this.mark = new Int32Array(n);
    this.stack = new Int16Array(n);
    this.dirs = Int32Array.of(-w, w, -1, 1);
    this.diags = Int32Array.of(-w - 1, -w + 1, w - 1, w + 1);
    this.z = zobrist(n);
    for (let r = 0; r < side; r++) {
      for (let c = 0; c < side; c++) {
        const p = (r + 1) * w + c + 1;
        this.color[p] = EMPTY;
        this.emptyAt[p] = this.nEmpty;
        this.empties[this.nEmpty++] = p;
      }
    }
  }

  point(row: number, col: number): number {
    return (row + 1) * this.stride + col + 1;
  }

  rowOf(p: number): number {
    return Math.floor(p / this.stride) - 1;
  }

  colOf(p: number): number {
    return (p % this.stride) - 1;
  }

  copyFrom(o: FastBoard): void {
    this.color.set(o.color);
    this.gid.set(o.gid);
    this.nextStone.set(o.nextStone);
    this.libs.set(o.libs);
    this.libSum.set(o.libSum);
    this.libSum2.set(o.libSum2);
    this.gsize.set(o.gsize);
    this.empties.set(o.empties);
    this.emptyAt.set(o.emptyAt);
    this.nEmpty = o.nEmpty;
    this.nCaptured = 0;
    this.ko = o.ko;
    this.hashLo = o.hashLo;
    this.hashHi = o.hashHi;
  }

  clone(): FastBoard {
    const b = new FastBoard(this.side);
    b.copyFrom(this);
    return b;
  }

  /** Zobrist key of the stones (not of the side to move): what positional superko compares. */
  key(): number {
    return combineKey(this.hashLo, this.hashHi);
  }

  inAtari(g: number): boolean {
    const s = this.libSum[g]!;
    return this.libs[g]! * this.libSum2[g]! === s * s;
  }

  /** The only liberty of a group in atari. */
  atariLib(g: number): number {
    return this.libSum[g]! / this.libs[g]!;
  }

  /** Whether colour c playing at empty p keeps a liberty (captures count), ko aside. */
  notSuicide(p: number, c: number): boolean {
    const color = this.color;
    for (let k = 0; k < 4; k++) {
      const q = p + this.dirs[k]!;
      const v = color[q]!;
      if (v === EMPTY) return true;
      if (v === EDGE) continue;
      const atari = this.inAtari(this.gid[q]!);
      if (v === c ? !atari : atari) return true;
    }
    return false;
  }

  /** Playout legality: not suicide and not the simple-ko point. */
  legal(p: number, c: number): boolean {
    return p !== this.ko && this.notSuicide(p, c);
  }

  /**
   * A single-point eye of c at empty p: all neighbours c (or edge) and at most one opposing
   * diagonal (none on the edge), the usual rule that keeps playouts from filling real eyes.
   */
  isEye(p: number, c: number): boolean {
    const color = this.color;
    for (let k = 0; k < 4; k++) {
      const v = color[p + this.dirs[k]!]!;
      if (v !== c && v !== EDGE) return false;
    }
    const o = 3 - c;
    let bad = 0;
    let edge = 0;
    for (let k = 0; k < 4; k++) {
      const v = color[p + this.diags[k]!]!;
      if (v === EDGE) edge = 1;
      else if (v === o) bad++;
    }
    return bad + edge < 2;
  }

  /** Whether c playing at legal empty p leaves its group with one liberty and captures nothing. */
  selfAtari(p: number, c: number): boolean {
    const color = this.color;
    const o = 3 - c;
    let e = 0;
    for (let k = 0; k < 4; k++) {
      const q = p + this.dirs[k]!;
      const v = color[q]!;
      if (v === EMPTY) e++;
      else if (v === o && this.inAtari(this.gid[q]!)) return false;
    }
    if (e >= 2) return false;
    const mark = this.mark;
    const stamp = ++this.stamp;
    mark[p] = stamp;
    let count = 0;
    for (let k = 0; k < 4; k++) {
      const q = p + this.dirs[k]!;
      if (color[q] === EMPTY && mark[q] !== stamp) {
        mark[q] = stamp;
        count++;
      }
    }
    for (let k = 0; k < 4; k++) {
      const q = p + this.dirs[k]!;
      if (color[q] !== c) continue;
      const g = this.gid[q]!;
      if (mark[g] === stamp) continue;
      mark[g] = stamp;
      let s = g;
      do {
        for (let j = 0; j < 4; j++) {
          const r = s + this.dirs[j]!;
          if (color[r] === EMPTY && mark[r] !== stamp) {
            mark[r] = stamp;
            if (++count >= 2) return false;
          }
        }
        s = this.nextStone[s]!;
      } while (s !== g);
    }
    return true;
  }

  /** The Zobrist key after c plays at empty p, without playing (captures applied, suicide not). */
  keyAfter(p: number, c: number): number {
    const z = this.z;
    let lo = this.hashLo ^ z.lo[c * this.cells + p]!;
    let hi = this.hashHi ^ z.hi[c * this.cells + p]!;
    const o = 3 - c;
    const stamp = ++this.stamp;
    for (let k = 0; k < 4; k++) {
      const q = p + this.dirs[k]!;
      if (this.color[q] !== o) continue;
      const g = this.gid[q]!;
      if (this.mark[g] === stamp || !this.inAtari(g)) continue;
      this.mark[g] = stamp;
      let s = g;
      do {
        lo ^= z.lo[o * this.cells + s]!;
        hi ^= z.hi[o * this.cells + s]!;
        s = this.nextStone[s]!;
      } while (s !== g);
    }
    return combineKey(lo, hi);
  }

  pass(): void {
    this.ko = 0;
    this.nCaptured = 0;
  }

  /**
   * Places c at empty p and removes opposing groups left without liberty; if none was removed and
   * the new group has no liberty, removes it (suicide: only reachable where the caller allows it).
   */
  play(p: number, c: number): void {
    const color = this.color;
    const gid = this.gid;
    const libs = this.libs;
    const ls = this.libSum;
    const ls2 = this.libSum2;
    const o = 3 - c;
    this.nCaptured = 0;
    color[p] = c;
    this.removeEmpty(p);
    this.toggle(c, p);
    gid[p] = p;
    this.nextStone[p] = p;
    this.gsize[p] = 1;
    let n = 0;
    let s = 0;
    let s2 = 0;
    for (let k = 0; k < 4; k++) {
      const q = p + this.dirs[k]!;
      const v = color[q];
      if (v === EMPTY) {
        n++;
        s += q;
        s2 += q * q;
      } else if (v !== EDGE) {
        const g = gid[q]!;
        libs[g]!--;
        ls[g]! -= p;
        ls2[g]! -= p * p;
      }
    }
    libs[p] = n;
    ls[p] = s;
    ls2[p] = s2;
    for (let k = 0; k < 4; k++) {
      const q = p + this.dirs[k]!;
      if (color[q] === c && gid[q] !== gid[p]) this.merge(gid[p]!, gid[q]!);
    }
    for (let k = 0; k < 4; k++) {
      const q = p + this.dirs[k]!;
      if (color[q] === o && libs[gid[q]!] === 0) this.remove(gid[q]!);
    }
    const g = gid[p]!;
    if (libs[g] === 0) {
      this.remove(g);
      this.ko = 0;
      return;
    }
    this.ko = this.nCaptured === 1 && this.gsize[g] === 1 && libs[g] === 1 ? this.captured[0]! : 0;
  }

  private toggle(c: number, p: number): void {
    this.hashLo ^= this.z.lo[c * this.cells + p]!;
    this.hashHi ^= this.z.hi[c * this.cells + p]!;
  }

  private removeEmpty(p: number): void {
    const i = this.emptyAt[p]!;
    const last = this.empties[--this.nEmpty]!;
    this.empties[i] = last;
    this.emptyAt[last] = i;
  }

  private addEmpty(p: number): void {
    this.emptyAt[p] = this.nEmpty;
    this.empties[this.nEmpty++] = p;
  }

  /** Joins two groups, relabelling the smaller. */
  private merge(a: number, b: number): void {
    if (this.gsize[a]! < this.gsize[b]!) [a, b] = [b, a];
    const gid = this.gid;
    const next = this.nextStone;
    let s = b;
    do {
      gid[s] = a;
      s = next[s]!;
    } while (s !== b);
    const t = next[a]!;
    next[a] = next[b]!;
    next[b] = t;
    this.gsize[a]! += this.gsize[b]!;
    this.libs[a]! += this.libs[b]!;
    this.libSum[a]! += this.libSum[b]!;
    this.libSum2[a]! += this.libSum2[b]!;
  }

  private remove(g: number): void {
    const color = this.color;
    const next = this.nextStone;
    const c = color[g]!;
    let s = g;
    do {
      color[s] = EMPTY;
      this.addEmpty(s);
      this.toggle(c, s);
      this.captured[this.nCaptured++] = s;
      s = next[s]!;
    } while (s !== g);
    // Only now are all the group's cells empty, so neighbours in the group are not credited.
    do {
      for (let k = 0; k < 4; k++) {
        const q = s + this.dirs[k]!;
        const v = color[q];
        if (v === BLACK || v === WHITE) {
          const h = this.gid[q]!;
          this.libs[h]!++;
          this.libSum[h]! += s;
          this.libSum2[h]! += s * s;
        }
      }
      s = next[s]!;
    } while (s !== g);
  }

  /**
   * Tromp-Taylor area: stones plus empty regions that reach only one colour. `owner`, when given,
   * receives each cell's owner (EMPTY for neutral).
   */
  area(owner?: Uint8Array): { black: number; white: number } {
    const color = this.color;
    const mark = this.mark;
    const stamp = ++this.stamp;
    const stack = this.stack;
    let black = 0;
    let white = 0;
    for (let r = 0; r < this.side; r++) {
      for (let c = 0; c < this.side; c++) {
        const p = (r + 1) * this.stride + c + 1;
        const v = color[p]!;
        if (v === BLACK) black++;
        else if (v === WHITE) white++;
        if (owner && v !== EMPTY) owner[p] = v;
        if (v !== EMPTY || mark[p] === stamp) continue;
        let top = 0;
        let size = 0;
        let reach = 0;
        stack[top++] = p;
        mark[p] = stamp;
        const region: number[] | null = owner ? [] : null;
        while (top > 0) {
          const q = stack[--top]!;
          size++;
          region?.push(q);
          for (let k = 0; k < 4; k++) {
            const t = q + this.dirs[k]!;
            const u = color[t]!;
            if (u === EMPTY) {
              if (mark[t] !== stamp) {
                mark[t] = stamp;
                stack[top++] = t;
              }
            } else if (u !== EDGE) reach |= u;
          }
        }
        if (reach === BLACK) black += size;
        else if (reach === WHITE) white += size;
        if (owner && region) for (const q of region) owner[q] = reach === BLACK || reach === WHITE ? reach : EMPTY;
      }
    }
    return { black, white };
  }
}

const COLOUR_CODE: Record<Colour, number> = { b: BLACK, w: WHITE };

export interface GoGameOptions {
  rules?: Rules;
  komi?: number;
  side?: number;
}

export interface Score {
  black: number;
  white: number;
  /** A tie (integer komi only) goes to White, so that `winner` is always a colour. */
  winner: Colour;
  margin: number;
}

interface Snapshot {
  board: FastBoard;
  passes: number;
  capturesB: number;
  capturesW: number;
  /** The position key this move added to the superko history (null for a pass). */
  added: number | null;
}

/** GTP name of a move on a board of `side`; off-board points by row and col. */
function describe(p: Point | null | undefined, side: number): string {
  if (p === null) return 'pass';
  if (!p || !Number.isInteger(p.row) || !Number.isInteger(p.col) || p.row < 0 || p.col < 0 || p.row >= side || p.col >= side) return `row ${p?.row}, col ${p?.col}`;
  return gtpName(p.row, p.col);
}

/** A game from the empty board, Black first, moves alternating, with undo and superko history. */
export class GoGame {
  readonly rules: Rules;
  readonly komi: number;
  readonly side: number;
  private b: FastBoard;
  private readonly movesList: (Point | null)[] = [];
  private readonly history: Snapshot[] = [];
  /** How often each position (stones only) occurred: positional superko. */
  private readonly seen = new Map<number, number>();
  private consecutivePasses = 0;
  private capturesB = 0;
  private capturesW = 0;
  private resignedColour: Colour | null = null;

  constructor(opts: GoGameOptions = {}) {
    const rules = opts.rules ?? 'standard';
    if (rules !== 'standard' && rules !== 'upstream') throw new RangeError(`GoGame: opts.rules ${JSON.stringify(rules)} (standard | upstream)`);
    const komi = opts.komi ?? 7.5;
    if (!Number.isFinite(komi)) throw new RangeError(`GoGame: opts.komi ${komi} is not a finite number`);
    this.rules = rules;
    this.komi = komi;
    const side = opts.side ?? BOARD_SIZE;
    if (!Number.isInteger(side) || side < 2 || side > MAX_SIDE) throw new RangeError(`GoGame: opts.side ${side} (2..${MAX_SIDE})`);
    this.side = side;
    this.b = new FastBoard(side);
    this.seen.set(this.b.key(), 1);
  }

  static fromMoves(moves: readonly (Point | null)[], opts: GoGameOptions = {}): GoGame {
    const g = new GoGame(opts);
    for (const m of moves) g.play(m);
    return g;
  }

  get toPlay(): Colour {
    return this.movesList.length % 2 === 0 ? 'b' : 'w';
  }

  get moves(): readonly (Point | null)[] {
    return this.movesList;
  }

  /** Consecutive passes ending the move list. */
  get passes(): number {
    return this.consecutivePasses;
  }

  /** Stones captured by each colour (a suicide's stones count for the opponent). */
  get captures(): Record<Colour, number> {
    return { b: this.capturesB, w: this.capturesW };
  }

  get resigned(): Colour | null {
    return this.resignedColour;
  }

  isOver(): boolean {
    return this.consecutivePasses >= 2 || this.resignedColour !== null;
  }

  resign(colour: Colour): void {
    if (colour !== 'b' && colour !== 'w') throw new RangeError(`GoGame.resign: colour ${JSON.stringify(colour)} (b | w)`);
    if (this.isOver()) throw new Error(`GoGame.resign: ${colour} cannot resign: the game is over`);
    this.resignedColour = colour;
  }

  get(row: number, col: number): Colour | null {
    if (!this.onBoard({ row, col })) throw new RangeError(`GoGame.get: row ${row}, col ${col} is off the ${this.side}x${this.side} board`);
    const v = this.b.color[this.b.point(row, col)];
    return v === BLACK ? 'b' : v === WHITE ? 'w' : null;
  }

  /** A GoBoard of the current position (for rendering and the upstream tools). */
  board(): GoBoard {
    const out = new GoBoard(this.side);
    // Any order of placing a legal position's stones captures nothing: every partial group
    // still touches a missing stone of its own or one of its final liberties.
    for (let r = 0; r < this.side; r++) {
      for (let c = 0; c < this.side; c++) {
        const v = this.b.color[this.b.point(r, c)];
        if (v === BLACK) out.play(r, c, 'b');
        else if (v === WHITE) out.play(r, c, 'w');
      }
    }
    return out;
  }

  /** 'X' black, 'O' white, '.' empty, row 0 first: exact, unlike `hash()`. */
  key(): string {
    let s = '';
    for (let r = 0; r < this.side; r++) {
      for (let c = 0; c < this.side; c++) {
        const v = this.b.color[this.b.point(r, c)];
        s += v === BLACK ? 'X' : v === WHITE ? 'O' : '.';
      }
    }
    return s;
  }

  /** 53-bit Zobrist key of the stones (what superko compares). */
  hash(): number {
    return this.b.key();
  }

  /** A copy of the internal board, for players' searches. */
  fastBoard(): FastBoard {
    return this.b.clone();
  }

  private onBoard(p: Point): boolean {
    return Number.isInteger(p.row) && Number.isInteger(p.col) && p.row >= 0 && p.col >= 0 && p.row < this.side && p.col < this.side;
  }

  /** Why the side to move may not play p, or null when it may. */
  whyIllegal(p: Point): string | null {
    if (this.isOver()) return 'game over';
    if (!p || !this.onBoard(p)) return 'off-board';
    const at = this.b.point(p.row, p.col);
    if (this.b.color[at] !== EMPTY) return 'occupied';
    if (this.rules === 'upstream') return null;
    const c = COLOUR_CODE[this.toPlay];
    if (!this.b.notSuicide(at, c)) return 'suicide';
    if (this.seen.has(this.b.keyAfter(at, c))) return 'superko';
    return null;
  }

  isLegal(p: Point | null): boolean {
    return p === null ? !this.isOver() : this.whyIllegal(p) === null;
  }

  /** Legal stone moves in row-major order (passing is always legal while the game runs). */
  legalMoves(): Point[] {
    const out: Point[] = [];
    if (this.isOver()) return out;
    for (let row = 0; row < this.side; row++) for (let col = 0; col < this.side; col++) if (this.whyIllegal({ row, col }) === null) out.push({ row, col });
    return out;
  }

  /** Whether empty p is a single-point eye of the side to play (FastBoard.isEye: the reference player never fills one). */
  isOwnEye(p: Point): boolean {
    if (!this.onBoard(p)) return false;
    const at = this.b.point(p.row, p.col);
    return this.b.color[at] === EMPTY && this.b.isEye(at, COLOUR_CODE[this.toPlay]);
  }

  /**
   * The one legal move of the side to play that captures exactly `stones` (the opponent's), or null
   * when none or several do. Reads a generated board that shows a capture's result but not the
   * capturing stone (see modelMove).
   */
  captureMove(stones: readonly Point[]): Point | null {
    if (stones.length === 0 || this.isOver()) return null;
    const opp = COLOUR_CODE[this.toPlay === 'b' ? 'w' : 'b'];
    const want = new Set<number>();
    for (const q of stones) {
      if (!this.onBoard(q) || this.b.color[this.b.point(q.row, q.col)] !== opp) return null;
      want.add(q.row * this.side + q.col);
    }
    // The capturing stone is a liberty of a captured stone.
    const candidates = new Map<number, Point>();
    for (const q of stones) {
      for (const [dr, dc] of [[-1, 0], [1, 0], [0, -1], [0, 1]] as const) {
        const n = { row: q.row + dr, col: q.col + dc };
        if (this.onBoard(n) && this.b.color[this.b.point(n.row, n.col)] === EMPTY) candidates.set(n.row * this.side + n.col, n);
      }
    }
    let found: Point | null = null;
    for (const p of candidates.values()) {
      if (this.whyIllegal(p) !== null) continue;
      const { captures } = this.play(p);
      this.undo();
      if (captures.length !== want.size || !captures.every((c) => want.has(c.row * this.side + c.col))) continue;
      if (found) return null;
      found = p;
    }
    return found;
  }

  /** Plays p (null = pass) for the side to move; the captured stones in row-major order. */
  play(p: Point | null): { captures: Point[] } {
    const colour = this.toPlay;
    if (p !== null) {
      const why = this.whyIllegal(p);
      if (why !== null) throw new Error(`GoGame.play: ${colour === 'b' ? 'B' : 'W'} ${describe(p, this.side)} (move ${this.movesList.length + 1}) is illegal: ${why}`);
    } else if (this.isOver()) {
      throw new Error(`GoGame.play: ${colour === 'b' ? 'B' : 'W'} pass (move ${this.movesList.length + 1}) is illegal: game over`);
    }
    const snap: Snapshot = { board: this.b.clone(), passes: this.consecutivePasses, capturesB: this.capturesB, capturesW: this.capturesW, added: null };
    this.history.push(snap);
    if (p === null) {
      this.b.pass();
      this.consecutivePasses++;
      this.movesList.push(null);
      return { captures: [] };
    }
    const c = COLOUR_CODE[colour];
    const at = this.b.point(p.row, p.col);
    this.b.play(at, c);
    const removed = Array.from(this.b.captured.subarray(0, this.b.nCaptured)).sort((x, y) => x - y);
    // A suicide removes the mover's stones; they count as captured by the opponent.
    const byBlack = (this.b.color[at] === EMPTY) !== (colour === 'b');
    if (byBlack) this.capturesB += removed.length;
    else this.capturesW += removed.length;
    const key = this.b.key();
    this.seen.set(key, (this.seen.get(key) ?? 0) + 1);
    snap.added = key;
    this.consecutivePasses = 0;
    const move = Object.freeze({ row: p.row, col: p.col });
    this.movesList.push(move);
    return { captures: removed.map((q) => ({ row: this.b.rowOf(q), col: this.b.colOf(q) })) };
  }

  /** Takes back the last move (a pass too). A resignation is the last action, so it is taken back first. */
  undo(): void {
    if (this.resignedColour !== null) {
      this.resignedColour = null;
      return;
    }
    const snap = this.history.pop();
    if (!snap) throw new Error('GoGame.undo: no move to take back');
    this.movesList.pop();
    if (snap.added !== null) {
      const n = this.seen.get(snap.added)!;
      if (n > 1) this.seen.set(snap.added, n - 1);
      else this.seen.delete(snap.added);
    }
    this.b = snap.board;
    this.consecutivePasses = snap.passes;
    this.capturesB = snap.capturesB;
    this.capturesW = snap.capturesW;
  }

  /** Area (Tromp-Taylor) score of the position as it stands; White gets komi. */
  score(): Score {
    const { black, white: stones } = this.b.area();
    const white = stones + this.komi;
    const winner: Colour = black > white ? 'b' : 'w';
    return { black, white, winner, margin: Math.abs(black - white) };
  }

  /** SGF RE value: 'B+R' after a resignation, else from `score()` ('0' for a tie). */
  result(): string {
    if (this.resignedColour !== null) return `${opponentOf(this.resignedColour) === 'b' ? 'B' : 'W'}+R`;
    const s = this.score();
    return s.margin === 0 ? '0' : `${s.winner === 'b' ? 'B' : 'W'}+${s.margin}`;
  }
}
