/**
 * Benchmark page: the instanced viewer and the per-tile-mesh baseline, same scenario, same page, same run.
 *
 * Scenario for N drawn tiles: a level much larger than the drawn region; the first poll sees the whole
 * L x L region (L = √N), so the union of seen + context tiles is exactly N; every measured frame then sees an
 * S x S block (S ≤ 40, about a screen of napari tiles) that pans one column per frame inside the region, like a
 * user dragging napari's view. A frame = `update` + render + a 1-pixel `readPixels` so GPU work is counted.
 */
import type { Poll } from '@webmon/napari';
import { createTileViewer, type TileGeometry, type TileViewer } from '../src/index.js';
import { BaselineViewer, type BaselineLevel } from './baseline.js';

const WIDTH = 800;
const HEIGHT = 600;
const TILE_SIZE = 256;

interface Scenario {
  side: number;
  level: { base_shape: number[]; image_shape: number[]; shape_in_tiles: number[]; tile_size: number; level_index: number };
  all: Int32Array;
  inner: Int32Array;
  frames: { seen: Int32Array; list: [number, number][]; corners: [[number, number], [number, number]] }[];
}

function scenario(drawn: number, frameCount: number): Scenario {
  const side = Math.round(Math.sqrt(drawn));
  const tilesPerAxis = side * 4;
  const image = tilesPerAxis * TILE_SIZE - 100;
  const level = { base_shape: [image * 4, image * 4], image_shape: [image, image], shape_in_tiles: [tilesPerAxis, tilesPerAxis], tile_size: TILE_SIZE, level_index: 2 };
  const offset = side; // the region sits inside the level, away from its edges
  // Every tile of the region (what both implementations draw) and its inner part (seen by the first poll:
  // with the 5-tile context border, the union is then exactly the region).
  const all = new Int32Array(side * side * 2);
  const inner = new Int32Array((side - 10) * (side - 10) * 2);
  let k = 0;
  let m = 0;
  for (let r = 0; r < side; r++) {
    for (let c = 0; c < side; c++) {
      all[k++] = offset + r;
      all[k++] = offset + c;
      if (r >= 5 && c >= 5 && r < side - 5 && c < side - 5) {
        inner[m++] = offset + r;
        inner[m++] = offset + c;
      }
    }
  }
  const block = Math.min(40, side - 10);
  const travel = side - 10 - block;
  const frames: Scenario['frames'] = [];
  for (let f = 0; f < frameCount; f++) {
    // Ping-pong across the region one column per frame.
    const period = Math.max(1, 2 * travel);
    const phase = f % period;
    const shift = travel === 0 ? 0 : phase <= travel ? phase : period - phase;
    const row0 = offset + 5 + Math.floor(travel / 2);
    const col0 = offset + 5 + shift;
    const list: [number, number][] = [];
    const seen = new Int32Array(block * block * 2);
    let j = 0;
    for (let r = row0; r < row0 + block; r++) {
      for (let c = col0; c < col0 + block; c++) {
        list.push([r, c]);
        seen[j++] = r;
        seen[j++] = c;
      }
    }
    // The frustum in base-level data coordinates (level 2: base = level x 4).
    const corners: [[number, number], [number, number]] = [
      [row0 * TILE_SIZE * 4 + 300, col0 * TILE_SIZE * 4 + 300],
      [(row0 + block) * TILE_SIZE * 4 - 300, (col0 + block) * TILE_SIZE * 4 - 300],
    ];
    frames.push({ seen, list, corners });
  }
  return { side, level, all, inner, frames };
}

function pollOf(s: Scenario, seen: [number, number][], corners: [[number, number], [number, number]]): Poll {
  return { layers: { '4455667788': { tile_config: s.level, tile_state: { seen, corners } } } };
}

function listOf(flat: Int32Array): [number, number][] {
  const list: [number, number][] = [];
  for (let i = 0; i < flat.length; i += 2) list.push([flat[i] as number, flat[i + 1] as number]);
  return list;
}

function host(): HTMLDivElement {
  const el = document.createElement('div');
  el.style.cssText = `width:${WIDTH}px;height:${HEIGHT}px;`;
  document.body.append(el);
  return el;
}

function sync(gl: WebGLRenderingContext | WebGL2RenderingContext): void {
  const px = new Uint8Array(4);
  gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, px);
}

export interface RunResult {
  impl: 'merged' | 'instanced' | 'baseline';
  drawn: number;
  seenPerFrame: number;
  buildMs: number;
  frames: number;
  /** update + render + GPU sync. */
  frameMsMedian: number;
  frameMsMean: number;
  /** Main-thread part only: update + render call (the GL commands issued, not yet executed). */
  cpuMsMedian: number;
  drawCalls: number;
  /** Frames were capped by the time budget. */
  capped: boolean;
}

function summarise(times: number[]): { median: number; mean: number } {
  const sorted = [...times].sort((a, b) => a - b);
  const median = sorted.length === 0 ? NaN : (sorted[Math.floor((sorted.length - 1) / 2)] as number);
  return { median, mean: times.reduce((a, b) => a + b, 0) / Math.max(1, times.length) };
}

function runViewer(drawn: number, frameCount: number, tileGeometry: TileGeometry, budgetMs: number): RunResult {
  const s = scenario(drawn, frameCount);
  const el = host();
  const viewer: TileViewer = createTileViewer(el, { renderMode: 'manual', controls: false, interactive: false, pixelRatio: 1, maxTiles: 1 << 20, tileGeometry });
  const gl = viewer.canvas.getContext('webgl2') as WebGL2RenderingContext;
  viewer.setView({ centerX: ((s.side * 1.5) * TILE_SIZE) / (s.side * 4 * TILE_SIZE - 100), centerY: ((s.side * 1.5) * TILE_SIZE) / (s.side * 4 * TILE_SIZE - 100), scale: (HEIGHT * (s.side * 4 * TILE_SIZE - 100)) / (s.side * TILE_SIZE * 1.1) });
  const first = s.frames[0] as Scenario['frames'][number];
  const buildPoll = pollOf(s, listOf(s.inner), first.corners);
  const polls = s.frames.map((f) => pollOf(s, f.list, f.corners));
  let t = performance.now();
  viewer.update(buildPoll);
  viewer.render();
  sync(gl);
  const buildMs = performance.now() - t;
  const tiles = viewer.stats().tiles;
  const times: number[] = [];
  const cpu: number[] = [];
  const started = performance.now();
  let capped = false;
  for (const poll of polls) {
    if (times.length >= 3 && performance.now() - started > budgetMs) {
      capped = true;
      break;
    }
    t = performance.now();
    viewer.update(poll);
    viewer.render();
    cpu.push(performance.now() - t);
    sync(gl);
    times.push(performance.now() - t);
  }
  const drawCalls = viewer.stats().drawCalls;
  viewer.dispose();
  el.remove();
  const { median, mean } = summarise(times);
  return { impl: tileGeometry, drawn: tiles, seenPerFrame: first.list.length, buildMs, frames: times.length, frameMsMedian: median, frameMsMean: mean, cpuMsMedian: summarise(cpu).median, drawCalls, capped };
}

function runBaseline(drawn: number, frameCount: number, budgetMs: number): RunResult {
  const s = scenario(drawn, frameCount);
  const el = host();
  const canvas = document.createElement('canvas');
  el.append(canvas);
  const baseline = new BaselineViewer(canvas, WIDTH, HEIGHT);
  const gl = baseline.renderer.getContext();
  const imageSide = s.side * 4 * TILE_SIZE - 100;
  const centre = (s.side * 1.5 * TILE_SIZE) / imageSide;
  const halfH = (s.side * TILE_SIZE * 1.1) / imageSide / 2;
  const halfW = (halfH * WIDTH) / HEIGHT;
  baseline.setCamera(centre - halfW, centre - halfH, centre + halfW, centre + halfH);
  const level: BaselineLevel = { imageRows: imageSide, imageCols: imageSide, colsInTiles: s.side * 4, tileSize: TILE_SIZE };
  const baseMax = imageSide * 4;
  const first = s.frames[0] as Scenario['frames'][number];
  let t = performance.now();
  // The baseline draws exactly the tiles the instanced viewer ends up drawing (the whole region).
  baseline.createTiles(level, s.all);
  baseline.frame(level, s.all, first.corners, baseMax);
  sync(gl);
  const buildMs = performance.now() - t;
  const times: number[] = [];
  const cpu: number[] = [];
  const started = performance.now();
  let capped = false;
  for (const f of s.frames) {
    if (times.length >= 3 && performance.now() - started > budgetMs) {
      capped = true;
      break;
    }
    t = performance.now();
    baseline.frame(level, f.seen, f.corners, baseMax);
    cpu.push(performance.now() - t);
    sync(gl);
    times.push(performance.now() - t);
  }
  const drawCalls = baseline.renderer.info.render.calls;
  baseline.dispose();
  el.remove();
  const { median, mean } = summarise(times);
  return { impl: 'baseline', drawn: s.side * s.side, seenPerFrame: first.list.length, buildMs, frames: times.length, frameMsMedian: median, frameMsMean: mean, cpuMsMedian: summarise(cpu).median, drawCalls, capped };
}

/** A demo picture for the README: napari panned across a level, leaving a trail of context tiles. */
function screenshotScene(): void {
  const el = document.createElement('div');
  el.style.cssText = 'width:900px;height:560px;';
  document.body.append(el);
  const level = { base_shape: [98_200, 131_000], image_shape: [24_550, 32_750], shape_in_tiles: [96, 128], tile_size: 256, level_index: 2 };
  const viewer = createTileViewer(el, { preserveDrawingBuffer: true });
  let poll: Poll = { layers: {} };
  for (let step = 0; step <= 36; step++) {
    const row0 = Math.round(30 + 16 * Math.sin(step / 9));
    const col0 = 10 + step * 2;
    const seen: [number, number][] = [];
    for (let r = row0; r < row0 + 9; r++) for (let c = col0; c < col0 + 14; c++) seen.push([r, c]);
    const corners: [[number, number], [number, number]] = [
      [(row0 + 0.4) * 1024, (col0 + 0.3) * 1024],
      [(row0 + 8.6) * 1024, (col0 + 13.5) * 1024],
    ];
    poll = { layers: { '140245120977104': { tile_config: level, tile_state: { seen, corners } }, '140245120981392': { tile_config: { ...level, level_index: 3, image_shape: [12_275, 16_375], shape_in_tiles: [48, 64] } } } };
    viewer.update(poll);
  }
  viewer.render();
  (window as unknown as { demoViewer: TileViewer }).demoViewer = viewer;
}

const bench = { runViewer, runBaseline, screenshotScene };
export type Bench = typeof bench;
(window as unknown as { bench: Bench }).bench = bench;
(window as unknown as { benchReady: boolean }).benchReady = true;
