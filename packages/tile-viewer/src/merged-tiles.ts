/**
 * All tiles of a level as one indexed triangle mesh (4 vertices per tile): one draw call whatever the count.
 * The default: in Chromium's SwiftShader (software WebGL, what headless and GPU-less machines get) an
 * instanced draw costs ~20 µs per instance, and the same quads merged draw 2–7x faster (see the README's
 * benchmark); on GPUs both are cheap. Slots are written in place and uploaded with update ranges; buffers grow by doubling.
 */
import { BufferAttribute, BufferGeometry, DoubleSide, DynamicDrawUsage, Mesh, MeshBasicMaterial, type Color, type Group } from 'three';
import type { Rect } from './level-layout.js';
import { TileBuffers, type TileAttribute } from './tile-layer.js';

const FLOATS_PER_TILE = 12; // 4 vertices x 3

export class MergedTiles extends TileBuffers {
  private readonly parent: Group;
  private readonly material = new MeshBasicMaterial({ vertexColors: true, side: DoubleSide, depthTest: false, depthWrite: false });
  private geometry: BufferGeometry;
  private readonly mesh: Mesh;
  private positions!: BufferAttribute;
  private colors!: BufferAttribute;

  constructor(parent: Group, options: { gap: number; tileColor: Color; seenColor: Color }) {
    super(options);
    this.parent = parent;
    this.geometry = this.createGeometry(this.capacity);
    this.mesh = new Mesh(this.geometry, this.material);
    // A bounding sphere over every vertex would be recomputed per change; the picture is small anyway.
    this.mesh.frustumCulled = false;
    this.mesh.renderOrder = 0;
    parent.add(this.mesh);
  }

  dispose(): void {
    this.parent.remove(this.mesh);
    this.geometry.dispose();
    this.material.dispose();
  }

  protected writeTile(index: number, r: Rect, inset: number): void {
    const x0 = r.x0 + inset;
    const y0 = r.y0 + inset;
    const x1 = Math.max(x0, r.x1 - inset);
    const y1 = Math.max(y0, r.y1 - inset);
    const p = this.positions.array as Float32Array;
    const o = index * FLOATS_PER_TILE;
    p[o] = x0;
    p[o + 1] = y0;
    p[o + 3] = x1;
    p[o + 4] = y0;
    p[o + 6] = x1;
    p[o + 7] = y1;
    p[o + 9] = x0;
    p[o + 10] = y1;
    // z stays 0 (arrays start zeroed).
  }

  protected writeColor(index: number, c: Color): void {
    const a = this.colors.array as Float32Array;
    for (let v = 0, o = index * FLOATS_PER_TILE; v < 4; v++, o += 3) {
      a[o] = c.r;
      a[o + 1] = c.g;
      a[o + 2] = c.b;
    }
  }

  protected setDrawCount(count: number): void {
    this.geometry.setDrawRange(0, count * 6);
  }

  protected attributes(): { perTile: TileAttribute[]; color: { attribute: BufferAttribute; floatsPerTile: number } } {
    const color = { attribute: this.colors, floatsPerTile: FLOATS_PER_TILE };
    return { perTile: [{ attribute: this.positions, floatsPerTile: FLOATS_PER_TILE }, color], color };
  }

  protected reallocate(capacity: number): void {
    const oldPositions = this.positions.array as Float32Array;
    const oldColors = this.colors.array as Float32Array;
    const old = this.geometry;
    this.geometry = this.createGeometry(capacity);
    (this.positions.array as Float32Array).set(oldPositions.subarray(0, this.count * FLOATS_PER_TILE));
    (this.colors.array as Float32Array).set(oldColors.subarray(0, this.count * FLOATS_PER_TILE));
    this.mesh.geometry = this.geometry;
    // Frees the old buffers on the GPU.
    old.dispose();
  }

  private createGeometry(capacity: number): BufferGeometry {
    const geometry = new BufferGeometry();
    this.positions = new BufferAttribute(new Float32Array(capacity * FLOATS_PER_TILE), 3).setUsage(DynamicDrawUsage);
    this.colors = new BufferAttribute(new Float32Array(capacity * FLOATS_PER_TILE), 3).setUsage(DynamicDrawUsage);
    // The index pattern never changes for a capacity: two triangles per tile.
    const index = new Uint32Array(capacity * 6);
    for (let i = 0, v = 0; i < index.length; i += 6, v += 4) {
      index[i] = v;
      index[i + 1] = v + 1;
      index[i + 2] = v + 2;
      index[i + 3] = v;
      index[i + 4] = v + 2;
      index[i + 5] = v + 3;
    }
    geometry.setAttribute('position', this.positions);
    geometry.setAttribute('color', this.colors);
    geometry.setIndex(new BufferAttribute(index, 1));
    geometry.setDrawRange(0, this.count * 6);
    return geometry;
  }

}
