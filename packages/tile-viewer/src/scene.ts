/**
 * Everything the viewer owns on the GPU: the renderer, scene and orthographic camera, the tile layer, the
 * frustum (fill and outline) and the axes. Built in one place and freed in one place, so `dispose()` cannot
 * miss a buffer. It draws what it is told; which tiles, which view and when to render are decided elsewhere.
 */
import {
  BufferGeometry,
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
  type Color,
} from 'three';
import { TileViewerError, TileViewerErrorCode } from './errors.js';
import { InstancedTiles } from './instanced-tiles.js';
import type { Rect } from './level-layout.js';
import { MergedTiles } from './merged-tiles.js';
import type { TileLayer } from './tile-layer.js';
import type { ViewState } from './view-fit.js';

/** The picture's colours, already parsed. */
export interface SceneColors {
  background: Color;
  tile: Color;
  seenTile: Color;
  frustum: Color;
  axisX: Color;
  axisY: Color;
}

export interface SceneOptions {
  colors: SceneColors;
  frustumOpacity: number;
  tileGap: number;
  tileGeometry: 'merged' | 'instanced';
  antialias: boolean;
  preserveDrawingBuffer: boolean;
}

export class TileScene {
  readonly renderer: WebGLRenderer;
  /** The one draw call of all tiles; `TileSet` fills it. */
  readonly tiles: TileLayer;
  /** Renders so far. */
  renders = 0;
  private readonly scene = new Scene();
  private readonly camera = new OrthographicCamera(-1, 1, 1, -1, 0.1, 10);
  /** Owned copy: the scene's background is this object, so recolouring it in place recolours the scene. */
  private readonly background: Color;
  private readonly axesGeometry = new BufferGeometry();
  private readonly axesColors = new Float32BufferAttribute(new Float32Array(12), 3);
  private readonly axesMaterial = new LineBasicMaterial({ vertexColors: true, depthTest: false, depthWrite: false });
  private readonly frustumGeometry = new PlaneGeometry(1, 1);
  private readonly frustumMaterial: MeshBasicMaterial;
  private readonly frustum: Mesh;
  private readonly outlineGeometry = new BufferGeometry();
  private readonly outlineMaterial: LineBasicMaterial;

  /** Throws `WEBGL_UNAVAILABLE` when the browser gives no WebGL context (nothing else is created then). */
  constructor(canvas: HTMLCanvasElement, options: SceneOptions) {
    try {
      this.renderer = new WebGLRenderer({ canvas, antialias: options.antialias, preserveDrawingBuffer: options.preserveDrawingBuffer, alpha: false });
    } catch (error) {
      throw new TileViewerError(TileViewerErrorCode.WEBGL_UNAVAILABLE, `could not create a WebGL context: ${String(error)}`, { cause: error });
    }
    const { colors } = options;
    this.background = colors.background.clone();
    this.scene.background = this.background;
    this.camera.position.set(0, 0, 1);
    // Content space has y down like napari; flipping the root keeps three's camera conventional.
    const root = new Group();
    root.scale.set(1, -1, 1);
    this.scene.add(root);

    const tileOptions = { gap: options.tileGap, tileColor: colors.tile, seenColor: colors.seenTile };
    this.tiles = options.tileGeometry === 'instanced' ? new InstancedTiles(root, tileOptions) : new MergedTiles(root, tileOptions);

    this.axesGeometry.setAttribute('position', new Float32BufferAttribute([0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0], 3));
    this.axesGeometry.setAttribute('color', this.axesColors);
    const axes = new LineSegments(this.axesGeometry, this.axesMaterial);
    axes.renderOrder = 1;
    axes.frustumCulled = false;
    root.add(axes);
    this.paintAxes(colors);

    this.frustumMaterial = new MeshBasicMaterial({ color: colors.frustum, transparent: true, opacity: options.frustumOpacity, depthTest: false, depthWrite: false });
    this.frustum = new Mesh(this.frustumGeometry, this.frustumMaterial);
    this.frustum.renderOrder = 2;
    this.frustum.frustumCulled = false;
    this.frustum.visible = false;
    this.outlineGeometry.setAttribute('position', new Float32BufferAttribute([-0.5, -0.5, 0, 0.5, -0.5, 0, 0.5, 0.5, 0, -0.5, 0.5, 0], 3));
    this.outlineMaterial = new LineBasicMaterial({ color: colors.frustum, depthTest: false, depthWrite: false });
    const outline = new LineLoop(this.outlineGeometry, this.outlineMaterial);
    outline.renderOrder = 3;
    outline.frustumCulled = false;
    this.frustum.add(outline);
    root.add(this.frustum);
  }

  setColors(colors: SceneColors): void {
    this.background.copy(colors.background);
    this.tiles.setColors(colors.tile, colors.seenTile);
    this.frustumMaterial.color.copy(colors.frustum);
    this.outlineMaterial.color.copy(colors.frustum);
    this.paintAxes(colors);
  }

  /** Shows napari's view frustum (content space), or hides it. */
  setFrustum(rect: Rect | null): void {
    this.frustum.visible = rect !== null;
    if (rect === null) return;
    this.frustum.position.set((rect.x0 + rect.x1) / 2, (rect.y0 + rect.y1) / 2, 0);
    // A zero-size frustum would make a singular matrix; keep it a speck instead.
    this.frustum.scale.set(Math.max(rect.x1 - rect.x0, 1e-12), Math.max(rect.y1 - rect.y0, 1e-12), 1);
  }

  /** Points the camera at `view` on a canvas of `width` x `height` CSS pixels. */
  setView(view: ViewState, width: number, height: number): void {
    const halfW = width / 2 / view.scale;
    const halfH = height / 2 / view.scale;
    // World y = -content y (the root is flipped).
    this.camera.left = view.centerX - halfW;
    this.camera.right = view.centerX + halfW;
    this.camera.top = -(view.centerY - halfH);
    this.camera.bottom = -(view.centerY + halfH);
    this.camera.updateProjectionMatrix();
  }

  /** Uploads what changed in the tiles and draws, synchronously. */
  render(): void {
    this.tiles.flush();
    this.renderer.render(this.scene, this.camera);
    this.renders++;
  }

  dispose(): void {
    this.tiles.dispose();
    this.axesGeometry.dispose();
    this.axesMaterial.dispose();
    this.frustumGeometry.dispose();
    this.frustumMaterial.dispose();
    this.outlineGeometry.dispose();
    this.outlineMaterial.dispose();
    this.renderer.renderLists.dispose();
    this.renderer.dispose();
    // Browsers cap live WebGL contexts (16 in Chromium); give ours back now rather than at garbage collection.
    this.renderer.forceContextLoss();
  }

  private paintAxes(colors: SceneColors): void {
    const c = [colors.axisX, colors.axisX, colors.axisY, colors.axisY];
    c.forEach((color, i) => this.axesColors.setXYZ(i, color.r, color.g, color.b));
    this.axesColors.needsUpdate = true;
  }
}
