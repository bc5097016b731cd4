/**
 * `createTileViewer(element, options)`: napari's octree tiles as one three.js picture, with an explicit
 * lifecycle. The host may own the render loop (`renderMode: 'manual'` + `render()`); by default one
 * `requestAnimationFrame` is scheduled only when something changed.
 */
import { Color, type ColorRepresentation } from 'three';
import type { LayerData, Poll } from '@webmon/napari';
import { Emitter } from './emitter.js';
import { TileViewerError, TileViewerErrorCode } from './errors.js';
import { checkTileState, isOctreeLayer, layoutLevel, tileAt, type CheckedTileState, type LevelLayout, type Rect } from './level-layout.js';
import { Overlay } from './overlay.js';
import { attachPointerInput } from './pointer-input.js';
import { TileScene, type SceneColors } from './scene.js';
import { TileSet } from './tile-set.js';
import { canvasToContent, clampScale, fitOnLevelChange, levelView, panBy, resizedView, seenView, zoomAt, type ViewFit, type ViewState, type Viewport } from './view-fit.js';

/** Colours of the picture; any three.js colour (CSS string or 0xRRGGBB). */
export interface TileViewerColors {
  /** @default '#1b1d21' */
  background: ColorRepresentation;
  /** Context tiles (drawn, not seen). @default '#a3a2a0' (the original viewer's gray) */
  tile: ColorRepresentation;
  /** Tiles napari draws. @default '#e11313' (the original viewer's red) */
  seenTile: ColorRepresentation;
  /** View frustum fill and outline. @default '#f5c542' (the original viewer's yellow) */
  frustum: ColorRepresentation;
  /** @default '#ff0000' */
  axisX: ColorRepresentation;
  /** @default '#00ff00' */
  axisY: ColorRepresentation;
}

export type RenderMode = 'auto' | 'continuous' | 'manual';
/** How the one draw call of all tiles is built (see the README's performance notes). */
export type TileGeometry = 'merged' | 'instanced';

export interface TileViewerOptions {
  /** Colours; unspecified ones keep their defaults. */
  colors?: Partial<TileViewerColors>;
  /** Opacity of the frustum fill, 0–1. @default 0.35 */
  frustumOpacity?: number;
  /** Gap between tiles as a fraction of the tile size, 0–0.9. @default 0.05 */
  tileGap?: number;
  /** Context tiles are drawn within this many tiles of a seen tile (integer, 0–64). @default 5 */
  contextRadius?: number;
  /** Most tiles drawn at once; reaching it restarts the context union from the seen tiles. @default 262144 */
  maxTiles?: number;
  /** `'merged'`: one indexed mesh, 4 vertices per tile; `'instanced'`: one `InstancedMesh`. Both are one draw call. @default 'merged' */
  tileGeometry?: TileGeometry;
  /** Layer to show first when the poll carries it (otherwise the first octree layer). */
  layer?: string;
  /** `'auto'`: render on the next animation frame after a change; `'continuous'`: every frame; `'manual'`: only on `render()`. @default 'auto' */
  renderMode?: RenderMode;
  /** Device pixels per CSS pixel; `undefined` follows `window.devicePixelRatio` (re-read on `resize()`). */
  pixelRatio?: number;
  /** Built-in controls over the canvas: layer choice, level, show-grid toggle, fit/reset, hover read-out. @default true */
  controls?: boolean;
  /** Pan/zoom with mouse, wheel and touch, and the hover read-out. @default true */
  interactive?: boolean;
  /**
   * When the shown level (or layer) changes, fit the view again the way it was last fitted: the whole level
   * (initially and after `resetView()`), or the seen tiles and frustum (after `fitView()`). Never after the
   * user has panned or zoomed (or `setView()` was called) since that fit: their view is kept. @default true
   */
  fitOnLevelChange?: boolean;
  /** Initial state of the show-grid toggle. @default false */
  showGrid?: boolean;
  /** WebGL antialiasing. @default true */
  antialias?: boolean;
  /** Keep the drawing buffer after compositing (needed to read pixels back later, e.g. in tests). @default false */
  preserveDrawingBuffer?: boolean;
}

/** The tile under the pointer. */
export interface TileHit {
  layerId: string;
  level: number;
  row: number;
  col: number;
  /** napari draws it this frame. */
  seen: boolean;
  /** The viewer draws it (seen or context). */
  drawn: boolean;
}

export interface LevelInfo {
  layerId: string;
  level: number;
  rowsInTiles: number;
  colsInTiles: number;
  tileSize: number;
  /** Level image shape `[rows, cols]`. */
  imageShape: [number, number];
}

/** A command for napari; the app sends it through its webmon client (`client.command(name, args)`). */
export interface TileViewerCommand {
  name: 'show_grid';
  args: boolean;
}

export interface TileViewerEvents {
  /** The tile under the pointer changed (null: the pointer left the level). */
  hover: TileHit | null;
  /** The user (or `setShowGrid`) asked napari to show or hide its tile grid. */
  command: TileViewerCommand;
  /** The octree layers in the poll, or the selected one, changed. */
  layerschange: { layers: string[]; selected: string | null };
  /** The shown level changed (a fresh grid), or null when no octree layer is left. */
  levelchange: LevelInfo | null;
  /** Something changed that needs a render; hosts running their own loop (`renderMode: 'manual'`) listen to this. */
  invalidate: undefined;
}

export interface TileViewerStats {
  /** Tiles drawn (seen + context), i.e. instances. */
  tiles: number;
  seenTiles: number;
  /** Allocated instance slots. */
  capacity: number;
  /** Draw calls and triangles of the last render. */
  drawCalls: number;
  triangles: number;
  /** Renders so far. */
  renders: number;
}

export interface TileViewer {
  /** The canvas (inside a wrapper the viewer adds to `element`). */
  readonly canvas: HTMLCanvasElement;
  readonly disposed: boolean;
  /** Feeds one poll (`{ layers: { [id]: LayerData } }`). Throws `TileViewerError`, leaving the picture unchanged. */
  update(poll: Poll): void;
  /** Ids of the octree layers (those with `tile_config`) in the last poll, in poll order. */
  layers(): string[];
  selectedLayer(): string | null;
  /** Shows another layer of the last poll; throws `UNKNOWN_LAYER` if it has none such. */
  selectLayer(id: string): void;
  level(): LevelInfo | null;
  showGrid(): boolean;
  /** Sets the show-grid toggle and emits the `command` for the app to send to napari. */
  setShowGrid(on: boolean): void;
  setColors(colors: Partial<TileViewerColors>): void;
  /** Zooms to the seen tiles and the frustum (the whole level if nothing is seen). */
  fitView(): void;
  /** Shows the whole level. */
  resetView(): void;
  getView(): ViewState;
  setView(view: Partial<ViewState>): void;
  /** The tile at a client (viewport) position, or null. */
  pick(clientX: number, clientY: number): TileHit | null;
  /** Re-measures the element and the device pixel ratio (a `ResizeObserver` calls it on its own). */
  resize(): void;
  /** Renders now, synchronously. */
  render(): void;
  stats(): TileViewerStats;
  on<K extends keyof TileViewerEvents>(type: K, listener: (payload: TileViewerEvents[K]) => void): () => void;
  off<K extends keyof TileViewerEvents>(type: K, listener: (payload: TileViewerEvents[K]) => void): void;
  /** Frees every GPU resource and listener, loses the WebGL context and removes what the viewer added to `element`. */
  dispose(): void;
}

const DEFAULT_COLORS: TileViewerColors = {
  background: '#1b1d21',
  tile: '#a3a2a0',
  seenTile: '#e11313',
  frustum: '#f5c542',
  axisX: '#ff0000',
  axisY: '#00ff00',
};

interface ResolvedOptions {
  colors: TileViewerColors;
  frustumOpacity: number;
  tileGap: number;
  contextRadius: number;
  maxTiles: number;
  layer: string | undefined;
  renderMode: RenderMode;
  tileGeometry: TileGeometry;
  pixelRatio: number | undefined;
  controls: boolean;
  interactive: boolean;
  fitOnLevelChange: boolean;
  showGrid: boolean;
  antialias: boolean;
  preserveDrawingBuffer: boolean;
}

function resolveOptions(options: TileViewerOptions): ResolvedOptions {
  const bad = (message: string): never => {
    throw new TileViewerError(TileViewerErrorCode.INVALID_OPTIONS, message);
  };
  const number = (name: string, value: number | undefined, fallback: number, min: number, max: number, integer = false): number => {
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
      bad(`${name} must be ${integer ? 'an integer' : 'a number'} in [${min}, ${max}], got ${String(value)}`);
    }
    return value;
  };
  const flag = (name: string, value: boolean | undefined, fallback: boolean): boolean => {
    if (value === undefined) return fallback;
    if (typeof value !== 'boolean') bad(`${name} must be a boolean, got ${String(value)}`);
    return value;
  };
  const renderMode = options.renderMode ?? 'auto';
  if (renderMode !== 'auto' && renderMode !== 'continuous' && renderMode !== 'manual') {
    bad(`renderMode must be 'auto', 'continuous' or 'manual', got ${String(renderMode)}`);
  }
  const tileGeometry = options.tileGeometry ?? 'merged';
  if (tileGeometry !== 'merged' && tileGeometry !== 'instanced') bad(`tileGeometry must be 'merged' or 'instanced', got ${String(tileGeometry)}`);
  if (options.layer !== undefined && typeof options.layer !== 'string') bad(`layer must be a string, got ${String(options.layer)}`);
  const colors = { ...DEFAULT_COLORS, ...options.colors };
  return {
    colors,
    frustumOpacity: number('frustumOpacity', options.frustumOpacity, 0.35, 0, 1),
    tileGap: number('tileGap', options.tileGap, 0.05, 0, 0.9),
    contextRadius: number('contextRadius', options.contextRadius, 5, 0, 64, true),
    maxTiles: number('maxTiles', options.maxTiles, 262_144, 1, 16_777_216, true),
    layer: options.layer,
    renderMode,
    tileGeometry,
    pixelRatio: options.pixelRatio === undefined ? undefined : number('pixelRatio', options.pixelRatio, 1, 0.25, 8),
    controls: flag('controls', options.controls, true),
    interactive: flag('interactive', options.interactive, true),
    fitOnLevelChange: flag('fitOnLevelChange', options.fitOnLevelChange, true),
    showGrid: flag('showGrid', options.showGrid, false),
    antialias: flag('antialias', options.antialias, true),
    preserveDrawingBuffer: flag('preserveDrawingBuffer', options.preserveDrawingBuffer, false),
  };
}

function toColor(name: string, value: ColorRepresentation): Color {
  // three.js only warns on an unknown CSS colour name and keeps white; make it a clear error instead.
  if (typeof value === 'string' && !/^\s*(#|rgb|hsl)/i.test(value)) {
    const sentinel = 0x123456;
    if (new Color(sentinel).setColorName(value).getHex() === sentinel) {
      throw new TileViewerError(TileViewerErrorCode.INVALID_OPTIONS, `colors.${name}: unknown colour ${JSON.stringify(value)}`);
    }
  } else if (typeof value === 'number' && !(Number.isInteger(value) && value >= 0 && value <= 0xffffff)) {
    throw new TileViewerError(TileViewerErrorCode.INVALID_OPTIONS, `colors.${name}: ${value} is not a 0xRRGGBB colour`);
  }
  return new Color(value);
}

/** Parses every colour (throwing on the first bad one) before any is applied, so a bad call changes nothing. */
function parseColors(values: TileViewerColors): SceneColors {
  return {
    background: toColor('background', values.background),
    tile: toColor('tile', values.tile),
    seenTile: toColor('seenTile', values.seenTile),
    frustum: toColor('frustum', values.frustum),
    axisX: toColor('axisX', values.axisX),
    axisY: toColor('axisY', values.axisY),
  };
}

interface Selection {
  id: string;
  data: LayerData;
  layout: LevelLayout;
  state: CheckedTileState;
}

/** Creates a tile viewer inside `element` (give it a size; the viewer fills it and follows its resizes). */
export function createTileViewer(element: HTMLElement, options: TileViewerOptions = {}): TileViewer {
  if (typeof element !== 'object' || element === null || typeof element.appendChild !== 'function') {
    throw new TileViewerError(TileViewerErrorCode.INVALID_OPTIONS, 'createTileViewer needs a DOM element to draw into');
  }
  const opts = resolveOptions(options);
  const colorValues = { ...opts.colors };
  const colors = parseColors(colorValues);
  const doc = element.ownerDocument;
  const win = windowOf(doc);

  // Everything the viewer adds lives in this wrapper, so dispose() leaves the host element as it found it.
  const wrapper = doc.createElement('div');
  wrapper.style.cssText = 'position:relative;width:100%;height:100%;overflow:hidden;';
  wrapper.dataset['role'] = 'tile-viewer';
  const canvas = doc.createElement('canvas');
  // touch-action none: touch gestures pan/zoom the view instead of scrolling the page.
  canvas.style.cssText = 'display:block;width:100%;height:100%;touch-action:none;outline:none;';
  wrapper.append(canvas);
  element.append(wrapper);

  let scene: TileScene;
  try {
    scene = new TileScene(canvas, { ...opts, colors });
  } catch (error) {
    wrapper.remove();
    throw error;
  }
  const tileSet = new TileSet(scene.tiles, { contextRadius: opts.contextRadius, maxTiles: opts.maxTiles });
  const emitter = new Emitter<TileViewerEvents>();

  // The viewer's state, read and written by the functions below. None of them is called before the setup
  // at the end of this function, so they can be declared in the order that reads best.
  let disposed = false;
  let width = 1;
  let height = 1;
  let view: ViewState = { centerX: 0.5, centerY: 0.5, scale: 1 };
  let viewFit: ViewFit = 'level';
  let rafId: number | null = null;
  let loopId: number | null = null;
  let gridOn = opts.showGrid;
  let poll: Poll | null = null;
  let octreeIds: string[] = [];
  let selection: Selection | null = null;
  let frustumRect: Rect | null = null;
  let pointer: [number, number] | null = null;
  let hovered: TileHit | null = null;
  let overlay: Overlay | null = null;
  let detachPointer = (): void => {};
  let resizeObserver: ResizeObserver | null = null;

  function assertAlive(): void {
    if (disposed) throw new TileViewerError(TileViewerErrorCode.DISPOSED, 'this tile viewer was disposed');
  }

  // ---- rendering: on demand ('auto'), every frame ('continuous') or by the host ('manual')

  function invalidate(): void {
    if (disposed) return;
    emitter.emit('invalidate', undefined);
    if (opts.renderMode !== 'auto' || rafId !== null) return;
    rafId = win.requestAnimationFrame(() => {
      rafId = null;
      if (!disposed) scene.render();
    });
  }

  function startContinuousLoop(): void {
    const loop = (): void => {
      if (disposed) return;
      scene.render();
      loopId = win.requestAnimationFrame(loop);
    };
    loopId = win.requestAnimationFrame(loop);
  }

  // ---- the view (the math is in view-fit.ts)

  function viewport(): Viewport {
    return { width, height, insets: { top: overlay?.topInset() ?? 0, right: 0, bottom: 0, left: 0 } };
  }

  function setViewState(next: ViewState): void {
    view = next;
    scene.setView(view, width, height);
    refreshHover();
    invalidate();
  }

  function measure(): void {
    const ratio = opts.pixelRatio ?? win.devicePixelRatio ?? 1;
    const w = Math.max(1, wrapper.clientWidth);
    const h = Math.max(1, wrapper.clientHeight);
    if (w === width && h === height && scene.renderer.getPixelRatio() === ratio) return;
    width = w;
    height = h;
    scene.renderer.setPixelRatio(ratio);
    scene.renderer.setSize(w, h, false);
    view = resizedView(view, viewFit, selection?.layout ?? null, viewport());
    scene.setView(view, width, height);
    // Resizing clears the drawing buffer: repaint now (before the browser paints a blank canvas).
    if (opts.renderMode !== 'manual') scene.render();
    else emitter.emit('invalidate', undefined);
  }

  // ---- hover and read-outs

  function levelText(): string {
    if (selection === null) return 'no octree layer';
    const l = selection.layout;
    return `Level ${l.levelIndex} · ${l.rowsInTiles}×${l.colsInTiles} tiles of ${l.tileSize}px · ${tileSet.seenCount} seen / ${tileSet.size} drawn`;
  }

  function hitAt(px: number, py: number): TileHit | null {
    if (selection === null) return null;
    const [x, y] = canvasToContent(view, width, height, px, py);
    const tile = tileAt(selection.layout, x, y);
    if (tile === null) return null;
    return {
      layerId: selection.id,
      level: selection.layout.levelIndex,
      row: tile.row,
      col: tile.col,
      seen: tileSet.isSeen(tile.row, tile.col),
      drawn: tileSet.isDrawn(tile.row, tile.col),
    };
  }

  function refreshHover(): void {
    const hit = pointer === null ? null : hitAt(pointer[0], pointer[1]);
    if (sameHit(hit, hovered)) return;
    hovered = hit;
    overlay?.setHover(hit === null ? null : `level ${hit.level} · row ${hit.row} · col ${hit.col}${hit.seen ? ' · seen' : hit.drawn ? '' : ' · not drawn'}`);
    emitter.emit('hover', hit);
  }

  function levelInfo(): LevelInfo | null {
    if (selection === null) return null;
    const l = selection.layout;
    return {
      layerId: selection.id,
      level: l.levelIndex,
      rowsInTiles: l.rowsInTiles,
      colsInTiles: l.colsInTiles,
      tileSize: l.tileSize,
      imageShape: [l.imageRows, l.imageCols],
    };
  }

  // ---- layers and levels

  /** Validates the layer without touching any state (so a bad poll loses nothing). */
  function prepare(id: string, data: LayerData): Selection {
    const layout = layoutLevel(data.tile_config);
    return { id, data, layout, state: checkTileState(layout, data.tile_state) };
  }

  /** Draws a validated selection; `restart` forces a fresh union (another layer). */
  function show(next: Selection | null, restart: boolean): void {
    const previousKey = selection?.layout.key ?? null;
    const previousId = selection?.id ?? null;
    selection = next;
    if (restart) tileSet.setLevel(null);
    scene.tiles.setLayout(next?.layout ?? null);
    const fresh = tileSet.setLevel(next?.layout ?? null);
    if (next !== null) tileSet.applySeen(next.state.seen, next.state.seenCount);
    frustumRect = next?.state.frustum ?? null;
    scene.setFrustum(frustumRect);
    overlay?.setLevel(levelText());
    if (fresh || previousId !== (next?.id ?? null) || previousKey !== (next?.layout.key ?? null)) {
      const fit = fitOnLevelChange(viewFit, opts.fitOnLevelChange, previousKey === null);
      if (fit !== null) setViewState(fit === 'seen' ? seenTilesView() : wholeLevelView());
      emitter.emit('levelchange', levelInfo());
    }
    refreshHover();
    invalidate();
  }

  function wholeLevelView(): ViewState {
    return levelView(selection?.layout ?? null, viewport());
  }

  function seenTilesView(): ViewState {
    return seenView(selection?.layout ?? null, tileSet.bounds, frustumRect, viewport());
  }

  function announceLayers(selected: string | null): void {
    overlay?.setLayers(octreeIds, selected);
    emitter.emit('layerschange', { layers: [...octreeIds], selected });
  }

  // ---- the handle

  const api: TileViewer = {
    canvas,
    get disposed() {
      return disposed;
    },

    update(next: Poll): void {
      assertAlive();
      if (typeof next !== 'object' || next === null || typeof next.layers !== 'object' || next.layers === null || Array.isArray(next.layers)) {
        throw new TileViewerError(TileViewerErrorCode.INVALID_POLL, 'update() takes a poll: { layers: { [layerId]: LayerData } }');
      }
      const ids: string[] = [];
      for (const id of Object.keys(next.layers)) if (isOctreeLayer(next.layers[id])) ids.push(id);
      const currentId = selection?.id;
      const chosen =
        currentId !== undefined && ids.includes(currentId) ? currentId : opts.layer !== undefined && ids.includes(opts.layer) ? opts.layer : (ids[0] ?? null);
      const data = chosen === null ? undefined : (next.layers[chosen] as LayerData);
      // Same object as last time for the shown layer: nothing to redo (hosts may re-send an unchanged poll).
      const unchanged = chosen !== null && selection !== null && chosen === selection.id && data === selection.data;
      const prepared = chosen === null || unchanged ? null : prepare(chosen, data as LayerData);
      poll = next;
      const listChanged = ids.length !== octreeIds.length || ids.some((id, i) => id !== octreeIds[i]);
      const selectionChanged = (selection?.id ?? null) !== chosen;
      octreeIds = ids;
      if (!unchanged) show(prepared, selectionChanged);
      if (listChanged || selectionChanged) announceLayers(chosen);
    },

    layers: () => [...octreeIds],
    selectedLayer: () => selection?.id ?? null,

    selectLayer(id: string): void {
      assertAlive();
      const data = poll?.layers[id];
      if (typeof id !== 'string' || !octreeIds.includes(id) || data === undefined) {
        throw new TileViewerError(TileViewerErrorCode.UNKNOWN_LAYER, `no octree layer ${JSON.stringify(id)} in the last poll (layers: ${octreeIds.join(', ') || 'none'})`);
      }
      if (selection?.id === id) return;
      const prepared = prepare(id, data);
      show(prepared, true);
      announceLayers(id);
    },

    level: () => levelInfo(),
    showGrid: () => gridOn,

    setShowGrid(on: boolean): void {
      assertAlive();
      if (typeof on !== 'boolean') throw new TileViewerError(TileViewerErrorCode.INVALID_OPTIONS, `setShowGrid takes a boolean, got ${String(on)}`);
      gridOn = on;
      overlay?.setShowGrid(on);
      emitter.emit('command', { name: 'show_grid', args: on });
    },

    setColors(next: Partial<TileViewerColors>): void {
      assertAlive();
      const merged = { ...colorValues, ...next };
      const parsed = parseColors(merged);
      Object.assign(colorValues, merged);
      scene.setColors(parsed);
      invalidate();
    },

    fitView(): void {
      assertAlive();
      viewFit = 'seen';
      setViewState(seenTilesView());
    },

    resetView(): void {
      assertAlive();
      viewFit = 'level';
      setViewState(wholeLevelView());
    },

    getView: () => ({ ...view }),

    setView(next: Partial<ViewState>): void {
      assertAlive();
      const merged = { ...view, ...next };
      if (![merged.centerX, merged.centerY, merged.scale].every(Number.isFinite) || merged.scale <= 0) {
        throw new TileViewerError(TileViewerErrorCode.INVALID_OPTIONS, `setView needs finite centerX, centerY and a positive scale, got ${JSON.stringify(next)}`);
      }
      viewFit = null;
      setViewState({ ...merged, scale: clampScale(merged.scale, width, height) });
    },

    pick(clientX: number, clientY: number): TileHit | null {
      assertAlive();
      const box = canvas.getBoundingClientRect();
      return hitAt(clientX - box.left, clientY - box.top);
    },

    resize(): void {
      assertAlive();
      measure();
    },

    render(): void {
      assertAlive();
      scene.render();
    },

    stats(): TileViewerStats {
      return {
        tiles: scene.tiles.instanceCount,
        seenTiles: tileSet.seenCount,
        capacity: scene.tiles.instanceCapacity,
        drawCalls: scene.renderer.info.render.calls,
        triangles: scene.renderer.info.render.triangles,
        renders: scene.renders,
      };
    },

    on: (type, listener) => emitter.on(type, listener),
    off: (type, listener) => emitter.off(type, listener),

    dispose(): void {
      if (disposed) return;
      disposed = true;
      if (rafId !== null) win.cancelAnimationFrame(rafId);
      if (loopId !== null) win.cancelAnimationFrame(loopId);
      resizeObserver?.disconnect();
      detachPointer();
      overlay?.destroy();
      scene.dispose();
      wrapper.remove();
      emitter.clear();
      poll = null;
      selection = null;
    },
  };

  // ---- controls and input: they only call the handle and the view functions above

  if (opts.controls) {
    overlay = new Overlay(
      wrapper,
      {
        selectLayer: (id) => {
          try {
            api.selectLayer(id);
          } catch (error) {
            // The list only offers layers of the last poll; a failure here means that layer's data is bad.
            overlay?.setLayers(octreeIds, selection?.id ?? null);
            queueMicrotask(() => {
              throw error;
            });
          }
        },
        showGrid: (on) => api.setShowGrid(on),
        fit: () => api.fitView(),
        reset: () => api.resetView(),
      },
      gridOn,
    );
  }

  if (opts.interactive) {
    detachPointer = attachPointerInput(canvas, {
      pan: (dx, dy) => {
        viewFit = null;
        setViewState(panBy(view, dx, dy));
      },
      zoom: (factor, x, y) => {
        viewFit = null;
        setViewState(zoomAt(view, width, height, factor, x, y));
      },
      hover: (x, y) => {
        pointer = [x, y];
        refreshHover();
      },
      leave: () => {
        pointer = null;
        refreshHover();
      },
      fit: () => api.fitView(),
    });
  }

  if (typeof ResizeObserver === 'function') {
    resizeObserver = new ResizeObserver(() => !disposed && measure());
    resizeObserver.observe(wrapper);
  }
  if (opts.renderMode === 'continuous') startContinuousLoop();

  measure();
  setViewState(wholeLevelView());
  if (opts.renderMode !== 'manual') scene.render();
  return api;
}

function windowOf(doc: Document): Window {
  const win = doc.defaultView;
  if (win === null) throw new TileViewerError(TileViewerErrorCode.INVALID_OPTIONS, 'the element must belong to a document with a window');
  return win;
}

function sameHit(a: TileHit | null, b: TileHit | null): boolean {
  if (a === b) return true;
  if (a === null || b === null) return false;
  return a.layerId === b.layerId && a.level === b.level && a.row === b.row && a.col === b.col && a.seen === b.seen && a.drawn === b.drawn;
}
