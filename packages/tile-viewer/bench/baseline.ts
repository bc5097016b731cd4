/**
 * The original `/viewer`'s approach, as the benchmark's baseline: one `THREE.Mesh` with its own
 * `MeshBasicMaterial` per tile, created when the level starts; every frame recolours every tile from a map of
 * the seen ones, moves the frustum rectangle and renders. Kept faithful on purpose (same per-tile objects,
 * same per-frame full pass), only pointed at the same drawn tiles the instanced viewer draws.
 */
import { Group, Mesh, MeshBasicMaterial, OrthographicCamera, PlaneGeometry, Scene, WebGLRenderer } from 'three';

const COLOR_TILE_OFF = 0xa3a2a0;
const COLOR_TILE_ON = 0xe11313;
const TILE_GAP = 0.05;

export interface BaselineLevel {
  imageRows: number;
  imageCols: number;
  colsInTiles: number;
  tileSize: number;
}

export class BaselineViewer {
  readonly renderer: WebGLRenderer;
  private readonly scene = new Scene();
  private readonly group = new Group();
  private readonly camera = new OrthographicCamera(0, 1, 0, -1, 0.1, 10);
  private readonly geometries: PlaneGeometry[] = [];
  private tiles: { mesh: Mesh<PlaneGeometry, MeshBasicMaterial>; index: number }[] = [];
  private readonly view: Mesh<PlaneGeometry, MeshBasicMaterial>;

  constructor(canvas: HTMLCanvasElement, width: number, height: number) {
    this.renderer = new WebGLRenderer({ canvas, antialias: true });
    this.renderer.setPixelRatio(1);
    this.renderer.setSize(width, height, false);
    this.group.scale.set(1, -1, 1);
    this.scene.add(this.group);
    this.camera.position.z = 1;
    const material = new MeshBasicMaterial({ color: 0xf5c542, transparent: true, opacity: 0.35, depthTest: false });
    this.view = new Mesh(this.newGeometry(), material);
    this.view.renderOrder = 10;
    this.group.add(this.view);
  }

  setCamera(x0: number, y0: number, x1: number, y1: number): void {
    this.camera.left = x0;
    this.camera.right = x1;
    this.camera.top = -y0;
    this.camera.bottom = -y1;
    this.camera.updateProjectionMatrix();
  }

  /** A level starts: one mesh and one material per drawn tile, like the original's `createTiles()`. */
  createTiles(level: BaselineLevel, tiles: Int32Array): void {
    for (const tile of this.tiles) {
      this.group.remove(tile.mesh);
      tile.mesh.material.dispose();
    }
    this.tiles = [];
    const maxDim = Math.max(level.imageRows, level.imageCols);
    for (let i = 0; i < tiles.length; i += 2) {
      const row = tiles[i] as number;
      const col = tiles[i + 1] as number;
      const x = col * level.tileSize;
      const y = row * level.tileSize;
      const w = Math.min(level.tileSize, level.imageCols - x) / maxDim;
      const h = Math.min(level.tileSize, level.imageRows - y) / maxDim;
      const rw = w - TILE_GAP * w;
      const rh = h - TILE_GAP * h;
      const mesh = new Mesh(this.newGeometry(), new MeshBasicMaterial({ color: COLOR_TILE_OFF }));
      mesh.position.set(x / maxDim + rw / 2, y / maxDim + rh / 2, 0);
      mesh.scale.set(rw, rh, 1);
      this.group.add(mesh);
      this.tiles.push({ mesh, index: row * level.colsInTiles + col });
    }
  }

  /** One frame, like the original's `updateSeen()` + `moveView()`: every tile recoloured from the seen map. */
  frame(level: BaselineLevel, seen: Int32Array, corners: [[number, number], [number, number]], baseMaxDim: number): void {
    const seenMap = new Map<number, number>();
    for (let i = 0; i < seen.length; i += 2) seenMap.set((seen[i] as number) * level.colsInTiles + (seen[i + 1] as number), 1);
    for (const tile of this.tiles) tile.mesh.material.color.set(seenMap.has(tile.index) ? COLOR_TILE_ON : COLOR_TILE_OFF);
    const [[y0, x0], [y1, x1]] = corners;
    this.view.position.set((x0 + x1) / 2 / baseMaxDim, (y0 + y1) / 2 / baseMaxDim, 0);
    this.view.scale.set((x1 - x0) / baseMaxDim, (y1 - y0) / baseMaxDim, 1);
    this.renderer.render(this.scene, this.camera);
  }

  dispose(): void {
    for (const tile of this.tiles) tile.mesh.material.dispose();
    for (const geometry of this.geometries) geometry.dispose();
    this.view.material.dispose();
    this.renderer.dispose();
    this.renderer.forceContextLoss();
  }

  // The original created a PlaneGeometry per rectangle too.
  private newGeometry(): PlaneGeometry {
    const geometry = new PlaneGeometry(1, 1);
    this.geometries.push(geometry);
    return geometry;
  }
}
