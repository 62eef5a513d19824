/** SGF (FF[4]) for 9x9 game records: writing ours and reading the main line of simple files. */

import { BOARD_SIZE, type Point } from './board.js';

export interface SgfGame {
  moves: (Point | null)[];
  komi: number;
  /** RE value, e.g. 'B+3.5', 'W+R', '0'. */
  result?: string;
  rules?: string;
  playerBlack?: string;
  playerWhite?: string;
  date?: string;
  comment?: string;
  size?: number;
}

function escapeText(s: string): string {
  return s.replace(/[\\\]]/g, (m) => `\\${m}`);
}

/** SGF point letters: column 'a' is A; row 'a' is the TOP line, so sgfmill row side-1 is 'a'. */
function sgfPoint(p: Point, side: number, index: number): string {
  if (!Number.isInteger(p.row) || !Number.isInteger(p.col) || p.row < 0 || p.col < 0 || p.row >= side || p.col >= side) {
    throw new RangeError(`toSgf: moves[${index}] row ${p.row}, col ${p.col} is off the ${side}x${side} board`);
  }
  return String.fromCharCode(97 + p.col, 97 + side - 1 - p.row);
}

/** One game as SGF; moves alternate from Black, a pass is an empty value (B[]). */
export function toSgf(o: SgfGame): string {
  const side = o.size ?? BOARD_SIZE;
  if (!Number.isInteger(side) || side < 1 || side > 26) throw new RangeError(`toSgf: size ${side} (1..26)`);
  if (!Number.isFinite(o.komi)) throw new RangeError(`toSgf: komi ${o.komi} is not a finite number`);
  let head = `;FF[4]GM[1]SZ[${side}]KM[${o.komi}]`;
  const text: [string, string | undefined][] = [
    ['RU', o.rules],
    ['RE', o.result],
    ['PB', o.playerBlack],
    ['PW', o.playerWhite],
    ['DT', o.date],
    ['C', o.comment],
  ];
  for (const [id, v] of text) if (v !== undefined) head += `${id}[${escapeText(v)}]`;
  const body = o.moves.map((m, i) => `;${i % 2 === 0 ? 'B' : 'W'}[${m === null ? '' : sgfPoint(m, side, i)}]`).join('');
  return `(${head}\n${body})\n`;
}

type SgfNode = Map<string, string[]>;

/** Parses the first game tree, keeping only the first variation at each branch. */
function mainLine(text: string): SgfNode[] {
  let i = 0;
  const fail = (why: string): never => {
    throw new SyntaxError(`parseSgf: ${why} at offset ${i}`);
  };
  const skipSpace = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const value = (): string => {
    i++; // '['
    let v = '';
    while (i < text.length && text[i] !== ']') {
      if (text[i] === '\\') i++;
      if (i < text.length) v += text[i++];
    }
    if (i >= text.length) fail('unterminated property value');
    i++; // ']'
    return v;
  };
  const tree = (keep: boolean, out: SgfNode[]): void => {
    skipSpace();
    if (text[i] !== '(') fail("expected '('");
    i++;
    let first = true;
    for (;;) {
      skipSpace();
      const ch = text[i];
      if (ch === ';') {
        i++;
        const node: SgfNode = new Map();
        for (;;) {
          skipSpace();
          const m = /^[A-Za-z]+/.exec(text.slice(i, i + 32));
          if (!m) break;
          i += m[0].length;
          // FF[3] allowed lower-case letters inside identifiers (e.g. "AddBlack"): only capitals count.
          const id = m[0].replace(/[a-z]/g, '');
          const values: string[] = [];
          skipSpace();
          if (text[i] !== '[') fail(`property ${m[0]} without a value`);
          while (text[i] === '[') {
            values.push(value());
            skipSpace();
          }
          node.set(id, [...(node.get(id) ?? []), ...values]);
        }
        if (keep) out.push(node);
      } else if (ch === '(') {
        tree(keep && first, out);
        first = false;
      } else if (ch === ')') {
        i++;
        return;
      } else {
        fail(ch === undefined ? "missing ')'" : `unexpected ${JSON.stringify(ch)}`);
      }
    }
  };
  const start = text.indexOf('(');
  if (start < 0) fail("no game tree ('(' not found)");
  i = start;
  const out: SgfNode[] = [];
  tree(true, out);
  return out;
}

/**
 * The main line of the first game in `text`: moves alternating from Black (null = pass, also 'tt'
 * on boards up to 19), komi (KM) and result (RE). Setup stones and out-of-turn moves are refused,
 * since a move list cannot represent them.
 */
export function parseSgf(text: string): { moves: (Point | null)[]; komi?: number; result?: string; size: number } {
  const nodes = mainLine(text);
  const root = nodes[0];
  const prop = (id: string): string | undefined => root?.get(id)?.[0];
  const sz = prop('SZ');
  const side = sz === undefined ? 19 : Number.parseInt(sz, 10);
  if (!Number.isInteger(side) || side < 1 || side > 26) throw new RangeError(`parseSgf: SZ[${sz}] is not a square board of 1..26`);
  const km = prop('KM');
  const komi = km === undefined || km.trim() === '' ? undefined : Number(km);
  if (komi !== undefined && !Number.isFinite(komi)) throw new RangeError(`parseSgf: KM[${km}] is not a number`);
  const moves: (Point | null)[] = [];
  for (const node of nodes) {
    for (const id of ['AB', 'AW', 'AE']) if (node.has(id)) throw new Error(`parseSgf: setup property ${id} is not supported (move lists start from the empty board)`);
    for (const id of ['B', 'W']) {
      const v = node.get(id);
      if (!v) continue;
      const expected = moves.length % 2 === 0 ? 'B' : 'W';
      if (id !== expected) throw new Error(`parseSgf: move ${moves.length + 1} is ${id} but ${expected} is to play (moves must alternate from Black)`);
      const s = v[0]!.trim();
      if (s === '' || (s === 'tt' && side <= 19)) {
        moves.push(null);
        continue;
      }
      const col = s.charCodeAt(0) - 97;
      const row = side - 1 - (s.charCodeAt(1) - 97);
      if (s.length !== 2 || col < 0 || col >= side || row < 0 || row >= side) throw new RangeError(`parseSgf: move ${moves.length + 1} ${id}[${s}] is off the ${side}x${side} board`);
      moves.push({ row, col });
    }
  }
  return { moves, komi, result: prop('RE'), size: side };
}
