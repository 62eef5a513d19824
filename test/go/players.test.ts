import test from 'ava';
import type { Colour, Point } from '../../src/go/board.js';
import { GoGame } from '../../src/go/engine.js';
import { gameStates, generateGames, mergeGameParts, playGame } from '../../src/go/games.js';
import { type Player, RandomPlayer, ReferencePlayer } from '../../src/go/players.js';

function playOut(black: Player, white: Player, maxMoves: number, check?: (g: GoGame, m: Point | null) => void): GoGame {
  const g = new GoGame();
  while (!g.isOver() && g.moves.length < maxMoves) {
    const before = g.key();
    const m = (g.toPlay === 'b' ? black : white).choose(g);
    if (g.key() !== before) throw new Error('a player changed the game it was given');
    check?.(g, m);
    g.play(m);
  }
  return g;
}

test('the random player plays only legal moves and passes only without one', (t) => {
  for (const seed of [1, 2, 3]) {
    const p = new RandomPlayer(seed);
    let moves = 0;
    const g = playOut(p, p, 250, (game, m) => {
      if (m === null) t.deepEqual(game.legalMoves(), []);
      else t.true(game.isLegal(m));
      moves++;
    });
    t.true(moves > 100);
    t.true(g.captures.b + g.captures.w > 0);
  }
});

test('the reference player is deterministic per seed and seeds differ', (t) => {
  const a = playOut(new ReferencePlayer({ seed: 5, playouts: 64 }), new ReferencePlayer({ seed: 5, playouts: 64 }), 20);
  const b = playOut(new ReferencePlayer({ seed: 5, playouts: 64 }), new ReferencePlayer({ seed: 5, playouts: 64 }), 20);
  const c = playOut(new ReferencePlayer({ seed: 6, playouts: 64 }), new ReferencePlayer({ seed: 6, playouts: 64 }), 20);
  t.deepEqual(a.moves, b.moves);
  t.notDeepEqual(a.moves.slice(0, 6), c.moves.slice(0, 6));
  t.deepEqual(playGame({ seed: 9, playouts: 32, maxMoves: 30 }), playGame({ seed: 9, playouts: 32, maxMoves: 30 }));
  t.throws(() => new ReferencePlayer({ seed: 1, playouts: 0 }), { message: /ReferencePlayer: opts\.playouts 0/ });
});

test('the reference player (64 playouts) beats the random player in at least 9 of 10 games', (t) => {
  let wins = 0;
  const results: string[] = [];
  const t0 = performance.now();
  for (let i = 0; i < 10; i++) {
    const ref = new ReferencePlayer({ seed: 100 + i, playouts: 64 });
    const rnd = new RandomPlayer(200 + i);
    const refColour: Colour = i % 2 === 0 ? 'b' : 'w';
    const g = refColour === 'b' ? playOut(ref, rnd, 160) : playOut(rnd, ref, 160);
    const s = g.score();
    if (s.winner === refColour) wins++;
    results.push(`${refColour}:${g.result()}`);
  }
  t.log(`reference vs random: ${wins}/10 (${results.join(' ')}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  t.true(wins >= 9);
});

test('self-play at 300 playouts: a full game, ended by two passes, timed', (t) => {
  const player = new ReferencePlayer({ seed: 1, playouts: 300 });
  let playouts = 0;
  const t0 = performance.now();
  const g = playOut(player, player, 150, () => {
    playouts += player.lastSearch.playouts;
  });
  const s = (performance.now() - t0) / 1000;
  t.log(`300-playout game: ${g.moves.length} moves in ${s.toFixed(2)} s, ${playouts} playouts (${Math.round(playouts / s)}/s), ${g.result()}`);
  t.deepEqual(g.moves.slice(-2), [null, null]);
  t.true(g.isOver());
  t.deepEqual(playGame({ seed: 1, playouts: 300 }).moves, g.moves);
});

test('generateGames: seeded, diverse, states from the empty board', (t) => {
  const seen: number[] = [];
  const games = generateGames({ count: 3, seed: 42, playouts: 48, maxMoves: 40, onGame: (i) => seen.push(i) });
  t.deepEqual(seen, [0, 1, 2]);
  t.is(new Set(games.map((g) => JSON.stringify(g.moves.slice(0, 8)))).size, 3);
  t.deepEqual(generateGames({ count: 1, seed: 42, playouts: 48, maxMoves: 40 })[0], games[0]);
  t.deepEqual(playGame({ seed: games[1]!.seed, playouts: 48, maxMoves: 40 }), games[1]);
  const states = gameStates(games[0]!);
  t.is(states.length, games[0]!.moves.length + 1);
  t.true(states[0]!.isEmpty());
  t.deepEqual(states.at(-1)!.stones(), GoGame.fromMoves(games[0]!.moves).board().stones());
  for (const g of games) t.true(g.moves.length <= 40);
});

test('generateGames parts: every n-th game of the same run, merged back in order by mergeGameParts', (t) => {
  const o = { count: 5, seed: 7, playouts: 16, maxMoves: 12, vsRandom: true };
  const whole = generateGames(o);
  const seen: number[] = [];
  const parts = [0, 1, 2].map((index) => generateGames({ ...o, part: { index, of: 3 }, onGame: (i) => seen.push(i) }));
  t.deepEqual(parts.map((p) => p.length), [2, 2, 1]);
  t.deepEqual(seen, [0, 3, 1, 4, 2]);
  t.deepEqual(parts[1], [whole[1], whole[4]]);
  t.deepEqual(mergeGameParts(parts), whole);
  t.throws(() => mergeGameParts([parts[0]!, [], parts[2]!]), { message: /game 1 is missing \(part 1 has 0 games\)/ });
  t.throws(() => generateGames({ ...o, part: { index: 3, of: 3 } }), { message: /part 3 of 3/ });
});

test('games against the random player: its colour alternates, it plays the RandomPlayer of the game seed, and the record replays', (t) => {
  const games = generateGames({ count: 2, seed: 4, playouts: 16, maxMoves: 24, vsRandom: true });
  t.deepEqual(games.map((g) => g.random), ['w', 'b']);
  for (const rec of games) {
    const random = new RandomPlayer(rec.seed);
    const game = new GoGame();
    rec.moves.forEach((m) => {
      if (game.toPlay === rec.random) t.deepEqual(m, random.choose(game));
      game.play(m);
    });
    t.deepEqual(playGame({ seed: rec.seed, playouts: 16, maxMoves: 24, random: rec.random }), rec);
  }
  t.is(generateGames({ count: 1, seed: 4, playouts: 16, maxMoves: 4 })[0]!.random, undefined);
});
