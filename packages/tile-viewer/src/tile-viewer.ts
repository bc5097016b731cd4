/**
 * `createTileViewer(element, options)`: napari's octree tiles as one three.js picture, with an explicit
 * lifecycle. The host may own the render loop (`renderMode: 'manual'` + `render()`); by default one
 * `requestAnimationFrame` is scheduled only when something changed.
 */
import {
  BufferGeometry,
  Color,
  Float32BufferAttribute,
  Group,
  LineBasicMaterial,
  LineLoop,
  LineSegments,
  Mesh,
  MeshBasicMaterial,
  OrthographicCamera,
  PlaneGeometry,
  Scene,
  WebGLRenderer,
  type ColorRepresentation,
} from 'three';
import type { LayerData, Poll } from '@webmon/napari';
import { Emitter } from './emitter.js';
import { TileViewerError } from './errors.js';
import { InstancedTiles } from './instanced-tiles.js';
import { MergedTiles } from './merged-tiles.js';
import type { TileLayer } from './tile-layer.js';
import { checkTileState, isOctreeLayer, layoutLevel, levelRect, tileAt, type CheckedTileState, type LevelLayout, type Rect } from './level-layout.js';
import { Overlay } from './overlay.js';
import { attachPointerInput } from './pointer-input.js';
import { TileSet } from './tile-set.js';
import { canvasToContent, clampScale, fitRect, panBy, unionRect, zoomAt, type Insets, type ViewState } from './view.js';

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
    throw new TileViewerError('INVALID_OPTIONS', message);
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
      throw new TileViewerError('INVALID_OPTIONS', `colors.${name}: unknown colour ${JSON.stringify(value)}`);
    }
  } else if (typeof value === 'number' && !(Number.isInteger(value) && value >= 0 && value <= 0xffffff)) {
    throw new TileViewerError('INVALID_OPTIONS', `colors.${name}: ${value} is not a 0xRRGGBB colour`);
  }
  return new Color(value);
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
    throw new TileViewerError('INVALID_OPTIONS', 'createTileViewer needs a DOM element to draw into');
  }
  const opts = resolveOptions(options);
  const colorValues = { ...opts.colors };
  const colors = {
    background: toColor('background', colorValues.background),
    tile: toColor('tile', colorValues.tile),
    seenTile: toColor('seenTile', colorValues.seenTile),
    frustum: toColor('frustum', colorValues.frustum),
    axisX: toColor('axisX', colorValues.axisX),
    axisY: toColor('axisY', colorValues.axisY),
  };
  const doc = element.ownerDocument;
  const win = doc.defaultView;
  if (win === null) throw new TileViewerError('INVALID_OPTIONS', 'the element must belong to a document with a window');

  // Everything the viewer adds lives in this wrapper, so dispose() leaves the host element as it found it.
  const wrapper = doc.createElement('div');
  wrapper.style.cssText = 'position:relative;width:100%;height:100%;overflow:hidden;';
  wrapper.dataset['role'] = 'tile-viewer';
  const canvas = doc.createElement('canvas');
  // touch-action none: touch gestures pan/zoom the view instead of scrolling the page.
  canvas.style.cssText = 'display:block;width:100%;height:100%;touch-action:none;outline:none;';
  wrapper.append(canvas);
  element.append(wrapper);

  let renderer: WebGLRenderer;
  try {
    renderer = new WebGLRenderer({ canvas, antialias: opts.antialias, preserveDrawingBuffer: opts.preserveDrawingBuffer, alpha: false });
  } catch (error) {
    wrapper.remove();
    throw new TileViewerError('WEBGL_UNAVAILABLE', `could not create a WebGL context: ${String(error)}`, { cause: error });
  }

  const scene = new Scene();
  scene.background = colors.background;
  const camera = new OrthographicCamera(-1, 1, 1, -1, 0.1, 10);
  camera.position.set(0, 0, 1);
  // Content space has y down like napari; flipping the root keeps three's camera conventional.
  const root = new Group();
  root.scale.set(1, -1, 1);
  scene.add(root);

  const tileOptions = { gap: opts.tileGap, tileColor: colors.tile, seenColor: colors.seenTile };
  const tiles: TileLayer = opts.tileGeometry === 'instanced' ? new InstancedTiles(root, tileOptions) : new MergedTiles(root, tileOptions);
  const tileSet = new TileSet(tiles, { contextRadius: opts.contextRadius, maxTiles: opts.maxTiles });

  const axesGeometry = new BufferGeometry();
  axesGeometry.setAttribute('position', new Float32BufferAttribute([0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0], 3));
  const axesColors = new Float32BufferAttribute(new Float32Array(12), 3);
  axesGeometry.setAttribute('color', axesColors);
  const axesMaterial = new LineBasicMaterial({ vertexColors: true, depthTest: false, depthWrite: false });
  const axes = new LineSegments(axesGeometry, axesMaterial);
  axes.renderOrder = 1;
  axes.frustumCulled = false;
  root.add(axes);

  const frustumGeometry = new PlaneGeometry(1, 1);
  const frustumMaterial = new MeshBasicMaterial({ color: colors.frustum, transparent: true, opacity: opts.frustumOpacity, depthTest: false, depthWrite: false });
  const frustum = new Mesh(frustumGeometry, frustumMaterial);
  frustum.renderOrder = 2;
  frustum.frustumCulled = false;
  frustum.visible = false;
  const outlineGeometry = new BufferGeometry();
  outlineGeometry.setAttribute('position', new Float32BufferAttribute([-0.5, -0.5, 0, 0.5, -0.5, 0, 0.5, 0.5, 0, -0.5, 0.5, 0], 3));
  const outlineMaterial = new LineBasicMaterial({ color: colors.frustum, depthTest: false, depthWrite: false });
  const outline = new LineLoop(outlineGeometry, outlineMaterial);
  outline.renderOrder = 3;
  outline.frustumCulled = false;
  frustum.add(outline);
  root.add(frustum);

  const paintAxes = (): void => {
    const c = [colors.axisX, colors.axisX, colors.axisY, colors.axisY];
    c.forEach((color, i) => axesColors.setXYZ(i, color.r, color.g, color.b));
    axesColors.needsUpdate = true;
  };
  paintAxes();

  const emitter = new Emitter<TileViewerEvents>();
  let disposed = false;
  let width = 1;
  let height = 1;
  let view: ViewState = { centerX: 0.5, centerY: 0.5, scale: 1 };
  /**
   * The fit the view shows: `'level'` (the whole level, the start), `'seen'` (after fitView), or null once
   * the user (or setView) moved it since, which is a view we must never take away from them.
   */
  let viewFit: 'level' | 'seen' | null = 'level';
  let rafId: number | null = null;
  let renders = 0;
  let gridOn = opts.showGrid;

  let poll: Poll | null = null;
  let octreeIds: string[] = [];
  let selection: Selection | null = null;
  let frustumRect: Rect | null = null;
  let pointer: [number, number] | null = null;
  let hovered: TileHit | null = null;

  const assertAlive = (): void => {
    if (disposed) throw new TileViewerError('DISPOSED', 'this tile viewer was disposed');
  };

  const renderNow = (): void => {
    tiles.flush();
    renderer.render(scene, camera);
    renders++;
  };

  const invalidate = (): void => {
    if (disposed) return;
    emitter.emit('invalidate', undefined);
    if (opts.renderMode !== 'auto' || rafId !== null) return;
    rafId = win.requestAnimationFrame(() => {
      rafId = null;
      if (!disposed) renderNow();
    });
  };

  const applyCamera = (): void => {
    const halfW = width / 2 / view.scale;
    const halfH = height / 2 / view.scale;
    // World y = -content y (the root is flipped).
    camera.left = view.centerX - halfW;
    camera.right = view.centerX + halfW;
    camera.top = -(view.centerY - halfH);
    camera.bottom = -(view.centerY + halfH);
    camera.updateProjectionMatrix();
  };

  const setViewState = (next: ViewState): void => {
    view = next;
    applyCamera();
    refreshHover();
    invalidate();
  };

  const levelText = (): string => {
    if (selection === null) return 'no octree layer';
    const l = selection.layout;
    return `Level ${l.levelIndex} · ${l.rowsInTiles}×${l.colsInTiles} tiles of ${l.tileSize}px · ${tileSet.seenCount} seen / ${tileSet.size} drawn`;
  };

  const hitAt = (px: number, py: number): TileHit | null => {
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
  };

  function refreshHover(): void {
    const hit = pointer === null ? null : hitAt(pointer[0], pointer[1]);
    const same =
      hit === hovered ||
      (hit !== null &&
        hovered !== null &&
        hit.layerId === hovered.layerId &&
        hit.level === hovered.level &&
        hit.row === hovered.row &&
        hit.col === hovered.col &&
        hit.seen === hovered.seen &&
        hit.drawn === hovered.drawn);
    if (same) return;
    hovered = hit;
    overlay?.setHover(hit === null ? null : `level ${hit.level} · row ${hit.row} · col ${hit.col}${hit.seen ? ' · seen' : hit.drawn ? '' : ' · not drawn'}`);
    emitter.emit('hover', hit);
  }

  const levelInfo = (): LevelInfo | null =>
    selection === null
      ? null
      : {
          layerId: selection.id,
          level: selection.layout.levelIndex,
          rowsInTiles: selection.layout.rowsInTiles,
          colsInTiles: selection.layout.colsInTiles,
          tileSize: selection.layout.tileSize,
          imageShape: [selection.layout.imageRows, selection.layout.imageCols],
        };

  const fitInsets = (): Insets => ({ top: overlay?.topInset() ?? 0, right: 0, bottom: 0, left: 0 });
  const wholeLevel = (): ViewState => fitRect(selection === null ? { x0: 0, y0: 0, x1: 1, y1: 1 } : levelRect(selection.layout), width, height, 0.05, fitInsets());
  const resetViewState = (): void => setViewState(wholeLevel());
  /** Seen tiles (with their drawn context's bounds) plus the frustum; the whole level when there is neither. */
  const seenTilesView = (): ViewState => {
    const bounds = tileSet.bounds;
    let rect: Rect | null = null;
    if (bounds !== null && selection !== null) {
      const l = selection.layout;
      const s = l.tileSize * l.levelScale;
      rect = { x0: bounds.minCol * s, y0: bounds.minRow * s, x1: (bounds.maxCol + 1) * s, y1: (bounds.maxRow + 1) * s };
    }
    rect = unionRect(rect, frustumRect);
    return rect === null ? wholeLevel() : fitRect(rect, width, height, 0.05, fitInsets());
  };

  /** Validates the layer without touching any state (so a bad poll loses nothing). */
  const prepare = (id: string, data: LayerData): Selection => {
    const layout = layoutLevel(data.tile_config);
    return { id, data, layout, state: checkTileState(layout, data.tile_state) };
  };

  /** Draws a validated selection; `restart` forces a fresh union (another layer). */
  const show = (next: Selection | null, restart: boolean): void => {
    const previousKey = selection?.layout.key ?? null;
    const previousId = selection?.id ?? null;
    selection = next;
    if (restart) tileSet.setLevel(null);
    tiles.setLayout(next?.layout ?? null);
    const fresh = tileSet.setLevel(next?.layout ?? null);
    if (next !== null) tileSet.applySeen(next.state.seen, next.state.seenCount);
    frustumRect = next?.state.frustum ?? null;
    if (frustumRect !== null) {
      frustum.visible = true;
      frustum.position.set((frustumRect.x0 + frustumRect.x1) / 2, (frustumRect.y0 + frustumRect.y1) / 2, 0);
      frustum.scale.set(Math.max(frustumRect.x1 - frustumRect.x0, 1e-12), Math.max(frustumRect.y1 - frustumRect.y0, 1e-12), 1);
    } else {
      frustum.visible = false;
    }
    overlay?.setLevel(levelText());
    if (fresh || previousId !== (next?.id ?? null) || previousKey !== (next?.layout.key ?? null)) {
      if (viewFit !== null && (opts.fitOnLevelChange || previousKey === null)) {
        // The first level replaces the placeholder view whatever the option says; later ones only with it on.
        setViewState(viewFit === 'seen' && previousKey !== null ? seenTilesView() : wholeLevel());
      }
      emitter.emit('levelchange', levelInfo());
    }
    refreshHover();
    invalidate();
  };

  const overlay: Overlay | null = opts.controls
    ? new Overlay(
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
      )
    : null;

  const detachPointer = opts.interactive
    ? attachPointerInput(canvas, {
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
      })
    : () => {};

  const measure = (): void => {
    const ratio = opts.pixelRatio ?? win.devicePixelRatio ?? 1;
    const w = Math.max(1, wrapper.clientWidth);
    const h = Math.max(1, wrapper.clientHeight);
    const sizeChanged = w !== width || h !== height;
    if (sizeChanged || renderer.getPixelRatio() !== ratio) {
      width = w;
      height = h;
      renderer.setPixelRatio(ratio);
      renderer.setSize(w, h, false);
      // Until the user moves or fits the view it keeps showing the whole level; after that, centre and zoom stay.
      if (viewFit === 'level') {
        view = wholeLevel();
      } else {
        view = { ...view, scale: clampScale(view.scale, w, h) };
      }
      applyCamera();
      // Resizing clears the drawing buffer: repaint now (before the browser paints a blank canvas).
      if (opts.renderMode !== 'manual') renderNow();
      else emitter.emit('invalidate', undefined);
    }
  };

  const resizeObserver = typeof ResizeObserver === 'function' ? new ResizeObserver(() => !disposed && measure()) : null;
  resizeObserver?.observe(wrapper);

  let loopId: number | null = null;
  if (opts.renderMode === 'continuous') {
    const loop = (): void => {
      if (disposed) return;
      renderNow();
      loopId = win.requestAnimationFrame(loop);
    };
    loopId = win.requestAnimationFrame(loop);
  }

  const api: TileViewer = {
    canvas,
    get disposed() {
      return disposed;
    },

    update(next: Poll): void {
      assertAlive();
      if (typeof next !== 'object' || next === null || typeof next.layers !== 'object' || next.layers === null || Array.isArray(next.layers)) {
        throw new TileViewerError('INVALID_POLL', 'update() takes a poll: { layers: { [layerId]: LayerData } }');
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
      if (listChanged || selectionChanged) {
        overlay?.setLayers(octreeIds, chosen);
        emitter.emit('layerschange', { layers: [...octreeIds], selected: chosen });
      }
    },

    layers: () => [...octreeIds],
    selectedLayer: () => selection?.id ?? null,

    selectLayer(id: string): void {
      assertAlive();
      const data = poll?.layers[id];
      if (typeof id !== 'string' || !octreeIds.includes(id) || data === undefined) {
        throw new TileViewerError('UNKNOWN_LAYER', `no octree layer ${JSON.stringify(id)} in the last poll (layers: ${octreeIds.join(', ') || 'none'})`);
      }
      if (selection?.id === id) return;
      const prepared = prepare(id, data);
      show(prepared, true);
      overlay?.setLayers(octreeIds, id);
      emitter.emit('layerschange', { layers: [...octreeIds], selected: id });
    },

    level: () => levelInfo(),
    showGrid: () => gridOn,

    setShowGrid(on: boolean): void {
      assertAlive();
      if (typeof on !== 'boolean') throw new TileViewerError('INVALID_OPTIONS', `setShowGrid takes a boolean, got ${String(on)}`);
      gridOn = on;
      overlay?.setShowGrid(on);
      emitter.emit('command', { name: 'show_grid', args: on });
    },

    setColors(next: Partial<TileViewerColors>): void {
      assertAlive();
      const merged = { ...colorValues, ...next };
      const parsed = {
        background: toColor('background', merged.background),
        tile: toColor('tile', merged.tile),
        seenTile: toColor('seenTile', merged.seenTile),
        frustum: toColor('frustum', merged.frustum),
        axisX: toColor('axisX', merged.axisX),
        axisY: toColor('axisY', merged.axisY),
      };
      Object.assign(colorValues, merged);
      for (const key of Object.keys(parsed) as (keyof typeof parsed)[]) colors[key].copy(parsed[key]);
      tiles.setColors(colors.tile, colors.seenTile);
      frustumMaterial.color.copy(colors.frustum);
      outlineMaterial.color.copy(colors.frustum);
      paintAxes();
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
      resetViewState();
    },

    getView: () => ({ ...view }),

    setView(next: Partial<ViewState>): void {
      assertAlive();
      const merged = { ...view, ...next };
      if (![merged.centerX, merged.centerY, merged.scale].every(Number.isFinite) || merged.scale <= 0) {
        throw new TileViewerError('INVALID_OPTIONS', `setView needs finite centerX, centerY and a positive scale, got ${JSON.stringify(next)}`);
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
      renderNow();
    },

    stats(): TileViewerStats {
      return {
        tiles: tiles.instanceCount,
        seenTiles: tileSet.seenCount,
        capacity: tiles.instanceCapacity,
        drawCalls: renderer.info.render.calls,
        triangles: renderer.info.render.triangles,
        renders,
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
      tiles.dispose();
      axesGeometry.dispose();
      axesMaterial.dispose();
      frustumGeometry.dispose();
      frustumMaterial.dispose();
      outlineGeometry.dispose();
      outlineMaterial.dispose();
      renderer.renderLists.dispose();
      renderer.dispose();
      // Browsers cap live WebGL contexts (16 in Chromium); give ours back now rather than at garbage collection.
      renderer.forceContextLoss();
      wrapper.remove();
      emitter.clear();
      poll = null;
      selection = null;
    },
  };

  measure();
  resetViewState();
  if (opts.renderMode !== 'manual') renderNow();
  return api;
}
