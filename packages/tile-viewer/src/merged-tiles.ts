/**
 * All tiles of a level as one indexed triangle mesh (4 vertices per tile): one draw call whatever the count.
 * The default: in Chromium's SwiftShader (software WebGL, what headless and GPU-less machines get) an
 * instanced draw costs ~20 µs per instance, and the same quads merged draw 2–7x faster (see the README's
 * benchmark); on GPUs both are cheap. Slots are written in place and uploaded with update ranges; buffers grow by doubling.
 */
import { BufferAttribute, BufferGeometry, Color, DoubleSide, DynamicDrawUsage, Mesh, MeshBasicMaterial, type Group } from 'three';
import { tileRect, type LevelLayout, type Rect } from './level-layout.js';
import { queueUploads, type TileLayer } from './tile-layer.js';

const MIN_CAPACITY = 1024;
const FLOATS_PER_TILE = 12; // 4 vertices x 3

export class MergedTiles implements TileLayer {
  private readonly parent: Group;
  private readonly material = new MeshBasicMaterial({ vertexColors: true, side: DoubleSide, depthTest: false, depthWrite: false });
  private geometry: BufferGeometry;
  private readonly mesh: Mesh;
  private positions!: BufferAttribute;
  private colors!: BufferAttribute;
  private capacity = MIN_CAPACITY;
  private count = 0;
  private layout: LevelLayout | null = null;
  private seenBits = new Uint8Array(MIN_CAPACITY);
  private readonly rect: Rect = { x0: 0, y0: 0, x1: 0, y1: 0 };
  private readonly tileColor = new Color();
  private readonly seenColor = new Color();
  private readonly gap: number;
  private firstNew = 0;
  private readonly recolored: number[] = [];
  private fullUpload = false;

  constructor(parent: Group, options: { gap: number; tileColor: Color; seenColor: Color }) {
    this.parent = parent;
    this.gap = options.gap;
    this.tileColor.copy(options.tileColor);
    this.seenColor.copy(options.seenColor);
    this.geometry = this.createGeometry(MIN_CAPACITY);
    this.mesh = new Mesh(this.geometry, this.material);
    // A bounding sphere over every vertex would be recomputed per change; the picture is small anyway.
    this.mesh.frustumCulled = false;
    this.mesh.renderOrder = 0;
    parent.add(this.mesh);
  }

  get instanceCount(): number {
    return this.count;
  }

  get instanceCapacity(): number {
    return this.capacity;
  }

  setLayout(layout: LevelLayout | null): void {
    this.layout = layout;
  }

  clear(): void {
    this.count = 0;
    this.geometry.setDrawRange(0, 0);
    this.firstNew = 0;
    this.recolored.length = 0;
  }

  add(index: number, row: number, col: number, seen: boolean): void {
    if (index >= this.capacity) this.grow(index + 1);
    const layout = this.layout;
    if (layout === null) return;
    const r = tileRect(layout, row, col, this.rect);
    // The gap is a fraction of a full tile, so clipped edge tiles keep the same spacing as the others.
    const inset = (layout.tileSize * layout.levelScale * this.gap) / 2;
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
    this.seenBits[index] = seen ? 1 : 0;
    this.writeColor(index, seen);
    if (index >= this.count) this.count = index + 1;
    this.geometry.setDrawRange(0, this.count * 6);
  }

  setSeen(index: number, seen: boolean): void {
    this.seenBits[index] = seen ? 1 : 0;
    this.writeColor(index, seen);
    if (index < this.firstNew) this.recolored.push(index);
  }

  setColors(tileColor: Color, seenColor: Color): void {
    this.tileColor.copy(tileColor);
    this.seenColor.copy(seenColor);
    for (let i = 0; i < this.count; i++) this.writeColor(i, this.seenBits[i] === 1);
    this.fullUpload = true;
  }

  flush(): void {
    if (this.fullUpload) {
      this.positions.clearUpdateRanges();
      this.colors.clearUpdateRanges();
      this.positions.needsUpdate = true;
      this.colors.needsUpdate = true;
    } else {
      queueUploads([{ attribute: this.positions, floatsPerTile: FLOATS_PER_TILE }, { attribute: this.colors, floatsPerTile: FLOATS_PER_TILE }], { attribute: this.colors, floatsPerTile: FLOATS_PER_TILE }, this.firstNew, this.count, this.recolored);
    }
    this.fullUpload = false;
    this.recolored.length = 0;
    this.firstNew = this.count;
  }

  dispose(): void {
    this.parent.remove(this.mesh);
    this.geometry.dispose();
    this.material.dispose();
  }

  private writeColor(index: number, seen: boolean): void {
    const c = seen ? this.seenColor : this.tileColor;
    const a = this.colors.array as Float32Array;
    for (let v = 0, o = index * FLOATS_PER_TILE; v < 4; v++, o += 3) {
      a[o] = c.r;
      a[o + 1] = c.g;
      a[o + 2] = c.b;
    }
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

  private grow(needed: number): void {
    let capacity = this.capacity;
    while (capacity < needed) capacity *= 2;
    const oldPositions = this.positions.array as Float32Array;
    const oldColors = this.colors.array as Float32Array;
    const old = this.geometry;
    this.geometry = this.createGeometry(capacity);
    (this.positions.array as Float32Array).set(oldPositions.subarray(0, this.count * FLOATS_PER_TILE));
    (this.colors.array as Float32Array).set(oldColors.subarray(0, this.count * FLOATS_PER_TILE));
    const bits = new Uint8Array(capacity);
    bits.set(this.seenBits.subarray(0, this.count));
    this.seenBits = bits;
    this.mesh.geometry = this.geometry;
    // Frees the old buffers on the GPU.
    old.dispose();
    this.capacity = capacity;
    // New attributes are uploaded whole on first use.
    this.fullUpload = true;
  }
}
