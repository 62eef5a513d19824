/**
 * The Go environment of upstream's battle loop (spec 2.1, 2.2, 2.5): board rules, the board image
 * the model sees, and reading the model's move back from its generated image. Browser-safe.
 *
 * @example
 * const board = new GoBoard();
 * board.play(5, 3, 'b');                                  // turn 0: upstream forces D6
 * board.play(4, 4, 'w');                                  // the human's E5
 * const input = normalizeImage(renderBoard(board));       // Float32Array NCHW [1,3,256,256]
 * // ... model generates `out` (float NCHW) ...
 * const move = locateNewStone(battleView(renderBoard(board)), denormalizeImage(out));
 * if (move.ok) board.play(move.row, move.col, 'b');      // BoardError 'occupied' -> retry
 */
export { BOARD_SIZE, BoardError, GoBoard, gtpName, opponentOf, parseGtp, parseUpstreamMove, replayMoves } from './board.js';
export type { BoardErrorKind, Colour, PlayResult, Point, ReplayedMove, Stone } from './board.js';
export { PngError, decodePng, encodePng, toRgb } from './png.js';
export type { EncodePngOptions, PngErrorKind, RasterImage } from './png.js';
export {
  BOARD_IMAGE_SIZE,
  GRID_ORIGIN,
  GRID_SPACING,
  STAMP_SIZE,
  battleView,
  denormalizeImage,
  denormalizeValue,
  emptyBoardImage,
  intersectionPixel,
  normalizeImage,
  normalizeValue,
  renderBoard,
  renderMoves,
  stoneStamp,
} from './render.js';
export type { NormalizeMode } from './render.js';
export { bandThreshold, contourArea, contourMoments, diffGray, findExternalContours, locateNewStone, morph2x2 } from './extract.js';
export type { ContourMoments, ContourPoint, LocateDebug, LocateFailure, LocateOptions, LocateResult, Mask } from './extract.js';
export { GoGame, FastBoard } from './engine.js';
export type { GoGameOptions, Rules, Score } from './engine.js';
export { RandomPlayer, ReferencePlayer } from './players.js';
export type { Player, ReferencePlayerOptions, SearchInfo } from './players.js';
export { gameStates, generateGames, mergeGameParts, playGame } from './games.js';
export type { GameRecord, PlayGameOptions } from './games.js';
export { parseSgf, toSgf } from './sgf.js';
export type { SgfGame } from './sgf.js';
