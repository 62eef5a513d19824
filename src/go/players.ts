/**
 * Players for a GoGame: a uniformly random one (the baseline) and a Monte-Carlo tree search
 * "reference player" whose self-play games are the training videos. Browser-safe.
 */

import { SeededRng } from '../graph/rng.js';
import type { Point } from './board.js';
import { BLACK, EDGE, EMPTY, type FastBoard, type GoGame, PASS, WHITE } from './engine.js';

export interface Player {
  name: string;
  /** The move for the side to move (null = pass); must not change `game`. */
  choose(game: GoGame): Point | null;
}

/** Uniform over all legal stone moves; passes only when it has none. */
export class RandomPlayer implements Player {
  readonly name = 'random';
  private readonly rng: SeededRng;

  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new RangeError(`RandomPlayer: seed ${seed} is not a finite number`);
    this.rng = new SeededRng(seed);
  }

  choose(game: GoGame): Point | null {
    const moves = game.legalMoves();
    return moves.length === 0 ? null : moves[this.rng.int(moves.length)]!;
  }
}

export interface ReferencePlayerOptions {
  seed: number;
  /** Simulations per move (default 300). */
  playouts?: number;
  /** Moves of the game (counted from move 0) chosen by sampling visit counts, for diverse games (default 6). */
  openingMoves?: number;
  /** Sampling temperature over visit counts in the opening (default 1). */
  temperature?: number;
}

/** What the last `choose` saw, for logging. */
export interface SearchInfo {
  playouts: number;
  /** Root win rate of the chosen move for the side to move (NaN when no search ran). */
  winrate: number;
  /** settled: the most visited move was inside decided territory, so the next one (or a pass) was taken. */
  reason: 'search' | 'opening-sample' | 'no-moves' | 'opponent-passed-and-won' | 'settled' | 'lost';
}

// MC-RAVE constants in the spirit of Michi (Petr Baudis): hand-made priors counted as virtual
// simulations, and RAVE weighted by beta = rn / (rn + n + n * rn / RAVE_EQUIV).
const RAVE_EQUIV = 3500;
const EXPAND_VISITS = 4;
const PRIOR_EVEN = 10;
const PRIOR_SELF_ATARI = 10;
const PRIOR_CAPTURE_ONE = 15;
const PRIOR_CAPTURE_MANY = 30;
const PRIOR_NEAR = [0, 24, 22, 8];
const PRIOR_EMPTY_AREA = 10;
/** Self-atari moves a playout still plays: some are needed (killing eye shapes), most are blunders. */
const SELF_ATARI_KEEP = 0.1;
/** Ownership (mean over playouts, -1..1) beyond which a territory point counts as decided. */
const SETTLED = 0.8;
/** Real win rate of the chosen move under which the player passes rather than play on. */
const LOST = 0.05;
/** Among opening samples, moves with fewer visits than this share of the best are dropped. */
const SAMPLE_FLOOR = 0.1;

class Node {
  n = 0;
  /** Wins for the player who made `move`. */
  w = 0;
  rn = 0;
  rw = 0;
  /** Virtual visits and wins from the priors (not real simulations). */
  pn = 0;
  pw = 0;
  children: Node[] | null = null;
  constructor(readonly move: number) {}
}

function mix(a: number, b: number): number {
  let h = Math.imul(a ^ 0x85ebca6b, 0xcc9e2d51) ^ b;
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  h = Math.imul(h ^ (h >>> 12), 0x297a2d39);
  return (h ^ (h >>> 15)) >>> 0;
}

/** A capture or an atari escape around the last move, the playouts' only tactics. */
function tacticalMove(b: FastBoard, c: number, last: number): number {
  const color = b.color;
  for (let k = -1; k < 4; k++) {
    const q = k < 0 ? last : last + b.dirs[k]!;
    const v = color[q]!;
    if (v !== BLACK && v !== WHITE) continue;
    const g = b.gid[q]!;
    if (!b.inAtari(g)) continue;
    const lib = b.atariLib(g);
    if (!b.legal(lib, c)) continue;
    if (v !== c || !b.selfAtari(lib, c)) return lib;
  }
  return PASS;
}

function playoutMove(b: FastBoard, c: number, last: number, rng: SeededRng): number {
  if (last !== PASS) {
    const t = tacticalMove(b, c, last);
    if (t !== PASS) return t;
  }
  const n = b.nEmpty;
  if (n === 0) return PASS;
  let i = rng.int(n);
  for (let k = 0; k < n; k++) {
    const p = b.empties[i]!;
    if (++i === n) i = 0;
    if (b.isEye(p, c) || !b.legal(p, c)) continue;
    if (b.selfAtari(p, c) && rng.next() >= SELF_ATARI_KEEP) continue;
    return p;
  }
  return PASS;
}

/**
 * Black's area minus White's at a playout's end, where empty regions are nearly all single points:
 * an empty point counts for a colour when all its neighbours are that colour. Adds each cell's
 * owner (+1 black, -1 white) to `own`.
 */
function playoutScore(b: FastBoard, own: Int32Array): number {
  const color = b.color;
  const w = b.stride;
  let score = 0;
  for (let r = 1; r <= b.side; r++) {
    for (let p = r * w + 1, end = p + b.side; p < end; p++) {
      let v = color[p]!;
      if (v === EMPTY) {
        let seen = 0;
        for (let k = 0; k < 4; k++) {
          const u = color[p + b.dirs[k]!]!;
          if (u !== EDGE) seen |= u;
        }
        v = seen;
      }
      if (v === BLACK) {
        score++;
        own[p]!++;
      } else if (v === WHITE) {
        score--;
        own[p]!--;
      }
    }
  }
  return score;
}

/** Chebyshev-like distance used by the "play near the last move" prior: 1 adjacent, 2 diagonal or two away, 3 beyond. */
function nearDistance(b: FastBoard, p: number, q: number): number {
  const dr = Math.abs(b.rowOf(p) - b.rowOf(q));
  const dc = Math.abs(b.colOf(p) - b.colOf(q));
  const d = dr + dc;
  return d <= 3 ? d : 4;
}

function emptyArea(b: FastBoard, p: number, dist: number): boolean {
  const r0 = b.rowOf(p);
  const c0 = b.colOf(p);
  for (let r = Math.max(0, r0 - dist); r <= Math.min(b.side - 1, r0 + dist); r++) {
    const span = dist - Math.abs(r - r0);
    for (let c = Math.max(0, c0 - span); c <= Math.min(b.side - 1, c0 + span); c++) if (b.color[b.point(r, c)] !== EMPTY) return false;
  }
  return true;
}

/** Michi-style priors: captures, atari escapes, self-atari, nearness to the last move, lines in empty areas. */
function setPriors(node: Node, b: FastBoard, c: number, last: number): void {
  let n = PRIOR_EVEN;
  // Passing starts as a loss: it has no RAVE statistics to pull it down, so an even prior would
  // make it look best whenever every real move is behind.
  let w = node.move === PASS ? 0 : PRIOR_EVEN / 2;
  const p = node.move;
  if (p !== PASS) {
    const o = 3 - c;
    let tactical = 0;
    for (let k = 0; k < 4; k++) {
      const q = p + b.dirs[k]!;
      const v = b.color[q];
      if (v !== o && v !== c) continue;
      const g = b.gid[q]!;
      if (!b.inAtari(g)) continue;
      // Capturing, or rescuing an own group in atari (p is then its liberty).
      const bonus = b.gsize[g]! > 1 ? PRIOR_CAPTURE_MANY : PRIOR_CAPTURE_ONE;
      if (v === o || !b.selfAtari(p, c)) tactical = Math.max(tactical, bonus);
    }
    n += tactical;
    w += tactical;
    if (b.selfAtari(p, c)) n += PRIOR_SELF_ATARI;
    if (last !== PASS) {
      const d = nearDistance(b, p, last);
      if (d <= 3) {
        n += PRIOR_NEAR[d]!;
        w += PRIOR_NEAR[d]!;
      }
    }
    if (emptyArea(b, p, 3)) {
      const line = Math.min(b.rowOf(p), b.colOf(p), b.side - 1 - b.rowOf(p), b.side - 1 - b.colOf(p));
      if (line <= 1) n += PRIOR_EMPTY_AREA;
      else if (line === 2) {
        n += PRIOR_EMPTY_AREA;
        w += PRIOR_EMPTY_AREA;
      }
    }
  }
  node.n = n;
  node.w = w;
  node.pn = n;
  node.pw = w;
}

function expand(node: Node, b: FastBoard, c: number, last: number, moves?: readonly number[]): void {
  const children: Node[] = [];
  const candidates = moves ?? Array.from(b.empties.subarray(0, b.nEmpty));
  for (const p of candidates) {
    if (!moves && (b.isEye(p, c) || !b.legal(p, c))) continue;
    const child = new Node(p);
    setPriors(child, b, c, last);
    children.push(child);
  }
  const pass = new Node(PASS);
  setPriors(pass, b, c, last);
  children.push(pass);
  node.children = children;
}

function select(node: Node): Node {
  let best = node.children![0]!;
  let bestValue = -Infinity;
  for (const ch of node.children!) {
    const q = ch.w / ch.n;
    let v = q;
    if (ch.rn > 0) {
      const beta = ch.rn / (ch.rn + ch.n + (ch.n * ch.rn) / RAVE_EQUIV);
      v = (1 - beta) * q + (beta * ch.rw) / ch.rn;
    }
    if (v > bestValue) {
      bestValue = v;
      best = ch;
    }
  }
  return best;
}

/**
 * MC-RAVE tree search with light playouts (captures and atari escapes near the last move, then
 * uniformly random non-eye-filling moves, most self-ataris rejected), area scoring with the game's
 * komi. Deterministic: the randomness of a move comes from the seed, the move number and the position.
 */
export class ReferencePlayer implements Player {
  readonly name: string;
  readonly playouts: number;
  readonly openingMoves: number;
  readonly temperature: number;
  private readonly seed: number;
  lastSearch: SearchInfo = { playouts: 0, winrate: NaN, reason: 'no-moves' };

  constructor(opts: ReferencePlayerOptions) {
    const { seed, playouts = 300, openingMoves = 6, temperature = 1 } = opts;
    if (!Number.isFinite(seed)) throw new RangeError(`ReferencePlayer: opts.seed ${seed} is not a finite number`);
    if (!Number.isInteger(playouts) || playouts < 1) throw new RangeError(`ReferencePlayer: opts.playouts ${playouts} (a positive integer)`);
    if (!Number.isInteger(openingMoves) || openingMoves < 0) throw new RangeError(`ReferencePlayer: opts.openingMoves ${openingMoves} (an integer >= 0)`);
    if (!(temperature > 0)) throw new RangeError(`ReferencePlayer: opts.temperature ${temperature} (> 0)`);
    this.seed = seed >>> 0;
    this.playouts = playouts;
    this.openingMoves = openingMoves;
    this.temperature = temperature;
    this.name = `reference-${playouts}`;
  }

  choose(game: GoGame): Point | null {
    const root = game.fastBoard();
    const c = game.toPlay === 'b' ? BLACK : WHITE;
    const sign = c === BLACK ? 1 : -1;
    const toPoint = (p: number): Point => ({ row: root.rowOf(p), col: root.colOf(p) });
    if (game.isOver()) throw new Error(`ReferencePlayer.choose: the game is over (move ${game.moves.length})`);

    // Exact legality at the root (superko under standard rules); never fill an own eye or suicide.
    const moves: number[] = [];
    for (let i = 0; i < root.nEmpty; i++) {
      const p = root.empties[i]!;
      if (root.isEye(p, c) || !root.notSuicide(p, c) || !game.isLegal(toPoint(p))) continue;
      moves.push(p);
    }
    moves.sort((a, b) => a - b);
    if (moves.length === 0) {
      this.lastSearch = { playouts: 0, winrate: NaN, reason: 'no-moves' };
      return null;
    }
    // The opponent passed: passing ends the game, so pass when the count as it stands wins.
    if (game.passes === 1) {
      const s = root.area();
      if (sign * (s.black - s.white - game.komi) > 0) {
        this.lastSearch = { playouts: 0, winrate: 1, reason: 'opponent-passed-and-won' };
        return null;
      }
    }

    const rng = new SeededRng(mix(mix(this.seed, game.moves.length), game.hash() % 4294967296));
    const tree = new Node(PASS);
    const last = game.moves.length > 0 && game.moves[game.moves.length - 1] ? root.point(game.moves.at(-1)!.row, game.moves.at(-1)!.col) : PASS;
    expand(tree, root, c, last, moves);
    const b = root.clone();
    const amaf = new Uint8Array(root.cells);
    const own = new Int32Array(root.cells);
    const path: Node[] = [];
    const maxLength = 3 * root.side * root.side;
    for (let sim = 0; sim < this.playouts; sim++) {
      b.copyFrom(root);
      amaf.fill(0);
      path.length = 0;
      path.push(tree);
      let node = tree;
      let colour = c;
      let passes = game.passes;
      let prev = last;
      while (node.children && passes < 2) {
        node = select(node);
        path.push(node);
        if (node.move === PASS) {
          b.pass();
          passes++;
        } else {
          b.play(node.move, colour);
          passes = 0;
          if (amaf[node.move] === 0) amaf[node.move] = colour;
        }
        prev = node.move;
        colour = 3 - colour;
        if (!node.children && node.n - node.pn >= EXPAND_VISITS && passes < 2) expand(node, b, colour, prev);
      }
      let blackMargin: number;
      if (passes >= 2) {
        const s = b.area();
        blackMargin = s.black - s.white;
        playoutScore(b, own);
      } else {
        for (let len = 0; len < maxLength && passes < 2; len++) {
          const p = playoutMove(b, colour, prev, rng);
          if (p === PASS) {
            b.pass();
            passes++;
          } else {
            b.play(p, colour);
            passes = 0;
            if (amaf[p] === 0) amaf[p] = colour;
          }
          prev = p;
          colour = 3 - colour;
        }
        blackMargin = playoutScore(b, own);
      }
      const blackWins = blackMargin - game.komi > 0;
      // path[k] was played by c when k is odd; at path[k] the side to move is c when k is even.
      for (let k = 0; k < path.length; k++) {
        const nd = path[k]!;
        const mover = k % 2 === 1 ? c : 3 - c;
        nd.n++;
        if ((mover === BLACK) === blackWins) nd.w++;
        if (!nd.children) continue;
        const toMove = 3 - mover;
        const won = (toMove === BLACK) === blackWins ? 1 : 0;
        for (const ch of nd.children) {
          if (ch.move !== PASS && amaf[ch.move] === toMove) {
            ch.rn++;
            ch.rw += won;
          }
        }
      }
    }

    const children = tree.children!;
    const visits = (ch: Node) => ch.n - ch.pn;
    const rate = (ch: Node) => (ch.n > ch.pn ? (ch.w - ch.pw) / (ch.n - ch.pn) : NaN);
    let best = children[0]!;
    for (const ch of children) if (visits(ch) > visits(best) || (visits(ch) === visits(best) && rate(ch) > rate(best))) best = ch;
    const winrate = rate(best);

    if (game.moves.length < this.openingMoves) {
      const top = visits(best);
      const pool = children.filter((ch) => ch.move !== PASS && visits(ch) > 0 && visits(ch) >= SAMPLE_FLOOR * top);
      if (pool.length > 0) {
        const weights = pool.map((ch) => Math.pow(visits(ch), 1 / this.temperature));
        let r = rng.next() * weights.reduce((a, x) => a + x, 0);
        let pick = pool[pool.length - 1]!;
        for (let i = 0; i < pool.length; i++) {
          r -= weights[i]!;
          if (r < 0) {
            pick = pool[i]!;
            break;
          }
        }
        this.lastSearch = { playouts: this.playouts, winrate: rate(pick), reason: 'opening-sample' };
        return toPoint(pick.move);
      }
    }

    // Moves inside an empty region that reaches only one colour, where nearly all playouts give
    // that colour the region, change nothing but the move count: filling own territory, or
    // invading hopelessly (the usual Monte-Carlo way of losing). Leaving them out is what ends
    // games with two passes. Captures and atari rescues stay.
    const owner = new Uint8Array(root.cells);
    root.area(owner);
    const decided = (p: number): boolean => {
      const o = owner[p]!;
      if (o === EMPTY) return false;
      const mean = own[p]! / this.playouts;
      if (o === BLACK ? mean < SETTLED : mean > -SETTLED) return false;
      for (let k = 0; k < 4; k++) {
        const q = p + root.dirs[k]!;
        const v = root.color[q];
        if ((v === BLACK || v === WHITE) && root.inAtari(root.gid[q]!)) return false;
      }
      return true;
    };
    let chosen: Node | null = null;
    for (const ch of children) {
      if (ch.move === PASS || decided(ch.move)) continue;
      if (!chosen || visits(ch) > visits(chosen) || (visits(ch) === visits(chosen) && rate(ch) > rate(chosen))) chosen = ch;
    }
    if (best.move === PASS || !chosen) {
      this.lastSearch = { playouts: this.playouts, winrate, reason: chosen ? 'search' : 'settled' };
      return null;
    }
    // Hopeless: pass instead of resigning, so the game still ends with two passes (the opponent
    // closes its borders first if the count as it stands does not yet win).
    if (rate(chosen) < LOST) {
      this.lastSearch = { playouts: this.playouts, winrate: rate(chosen), reason: 'lost' };
      return null;
    }
    this.lastSearch = { playouts: this.playouts, winrate: rate(chosen), reason: chosen === best ? 'search' : 'settled' };
    return toPoint(chosen.move);
  }
}
