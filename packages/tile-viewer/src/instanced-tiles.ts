/**
 * All tiles of a level in one `THREE.InstancedMesh` (`tileGeometry: 'instanced'`): one draw call whatever the
 * count, 19 floats per tile. Instance slots are written in place and uploaded with update ranges, so a frame
 * that recolours a few tiles uploads a few bytes; the buffer grows by doubling (a fresh upload then,
 * amortised O(1) per tile). Fast on GPUs; in software WebGL (SwiftShader) each instance costs ~20 µs, which
 * is why `MergedTiles` is the default.
 */
import { Color, DoubleSide, DynamicDrawUsage, InstancedBufferAttribute, InstancedMesh, MeshBasicMaterial, PlaneGeometry, type Group } from 'three';
import { tileRect, type LevelLayout, type Rect } from './level-layout.js';
import { queueUploads, type TileLayer } from './tile-layer.js';

const MIN_CAPACITY = 1024;

export class InstancedTiles implements TileLayer {
  private readonly parent: Group;
  private readonly geometry = new PlaneGeometry(1, 1);
  // Colours live per instance; the material stays white so instanceColor is the colour.
  private readonly material = new MeshBasicMaterial({ color: 0xffffff, side: DoubleSide, depthTest: false, depthWrite: false });
  private mesh: InstancedMesh;
  private capacity: number;
  private count = 0;
  private layout: LevelLayout | null = null;
  private seenBits: Uint8Array;
  private readonly rect: Rect = { x0: 0, y0: 0, x1: 0, y1: 0 };
  private readonly tileColor = new Color();
  private readonly seenColor = new Color();
  /** Gap between tiles as a fraction of the tile size. */
  private gap: number;
  // Dirty state since the last flush.
  private firstNew = 0;
  private readonly recolored: number[] = [];
  private fullUpload = false;

  constructor(parent: Group, options: { gap: number; tileColor: Color; seenColor: Color }) {
    this.parent = parent;
    this.gap = options.gap;
    this.tileColor.copy(options.tileColor);
    this.seenColor.copy(options.seenColor);
    this.capacity = MIN_CAPACITY;
    this.seenBits = new Uint8Array(this.capacity);
    this.mesh = this.createMesh(this.capacity);
  }

  setLayout(layout: LevelLayout | null): void {
    this.layout = layout;
  }

  get instanceCount(): number {
    return this.count;
  }

  get instanceCapacity(): number {
    return this.capacity;
  }

  clear(): void {
    this.count = 0;
    this.mesh.count = 0;
    this.firstNew = 0;
    this.recolored.length = 0;
  }

  add(index: number, row: number, col: number, seen: boolean): void {
    if (index >= this.capacity) this.grow(index + 1);
    const layout = this.layout;
    if (layout === null) return;
    const r = tileRect(layout, row, col, this.rect);
    const width = r.x1 - r.x0;
    const height = r.y1 - r.y0;
    // The gap is a fraction of a full tile, so clipped edge tiles keep the same spacing as the others.
    const inset = (layout.tileSize * layout.levelScale * this.gap) / 2;
    const m = this.mesh.instanceMatrix.array as Float32Array;
    const o = index * 16;
    m[o] = Math.max(width - 2 * inset, 0);
    m[o + 5] = Math.max(height - 2 * inset, 0);
    m[o + 10] = 1;
    m[o + 12] = r.x0 + width / 2;
    m[o + 13] = r.y0 + height / 2;
    m[o + 15] = 1;
    this.seenBits[index] = seen ? 1 : 0;
    this.writeColor(index, seen);
    if (index >= this.count) this.count = index + 1;
    this.mesh.count = this.count;
  }

  setSeen(index: number, seen: boolean): void {
    this.seenBits[index] = seen ? 1 : 0;
    this.writeColor(index, seen);
    if (index < this.firstNew) this.recolored.push(index);
  }

  /** Changes the two tile colours; every instance is recoloured (rare, O(tiles)). */
  setColors(tileColor: Color, seenColor: Color): void {
    this.tileColor.copy(tileColor);
    this.seenColor.copy(seenColor);
    for (let i = 0; i < this.count; i++) this.writeColor(i, this.seenBits[i] === 1);
    this.fullUpload = true;
  }

  /** Uploads what changed since the last flush; call right before rendering. */
  flush(): void {
    const matrix = this.mesh.instanceMatrix;
    const color = this.mesh.instanceColor as InstancedBufferAttribute;
    if (this.fullUpload) {
      matrix.clearUpdateRanges();
      color.clearUpdateRanges();
      color.needsUpdate = true;
      matrix.needsUpdate = true;
    } else {
      queueUploads([{ attribute: matrix, floatsPerTile: 16 }, { attribute: color, floatsPerTile: 3 }], { attribute: color, floatsPerTile: 3 }, this.firstNew, this.count, this.recolored);
    }
    this.fullUpload = false;
    this.recolored.length = 0;
    this.firstNew = this.count;
  }

  dispose(): void {
    this.parent.remove(this.mesh);
    this.mesh.dispose();
    this.geometry.dispose();
    this.material.dispose();
  }

  private writeColor(index: number, seen: boolean): void {
    const c = seen ? this.seenColor : this.tileColor;
    const a = (this.mesh.instanceColor as InstancedBufferAttribute).array as Float32Array;
    a[index * 3] = c.r;
    a[index * 3 + 1] = c.g;
    a[index * 3 + 2] = c.b;
  }

  private createMesh(capacity: number): InstancedMesh {
    const mesh = new InstancedMesh(this.geometry, this.material, capacity);
    mesh.instanceMatrix.setUsage(DynamicDrawUsage);
    mesh.instanceColor = new InstancedBufferAttribute(new Float32Array(capacity * 3), 3);
    mesh.instanceColor.setUsage(DynamicDrawUsage);
    mesh.count = 0;
    // The bounding sphere of 100k instances would be recomputed per change; the camera sees the whole level anyway.
    mesh.frustumCulled = false;
    mesh.renderOrder = 0;
    this.parent.add(mesh);
    return mesh;
  }

  private grow(needed: number): void {
    let capacity = this.capacity;
    while (capacity < needed) capacity *= 2;
    const old = this.mesh;
    const mesh = this.createMesh(capacity);
    (mesh.instanceMatrix.array as Float32Array).set((old.instanceMatrix.array as Float32Array).subarray(0, this.count * 16));
    ((mesh.instanceColor as InstancedBufferAttribute).array as Float32Array).set(
      ((old.instanceColor as InstancedBufferAttribute).array as Float32Array).subarray(0, this.count * 3),
    );
    const bits = new Uint8Array(capacity);
    bits.set(this.seenBits.subarray(0, this.count));
    this.seenBits = bits;
    mesh.count = this.count;
    this.parent.remove(old);
    // Frees the old instance buffers on the GPU (the geometry and material are shared and stay).
    old.dispose();
    this.mesh = mesh;
    this.capacity = capacity;
    // A new attribute is uploaded whole on first use.
    this.fullUpload = true;
  }
}
