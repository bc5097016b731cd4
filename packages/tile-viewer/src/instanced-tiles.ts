/**
 * All tiles of a level in one `THREE.InstancedMesh` (`tileGeometry: 'instanced'`): one draw call whatever the
 * count, 19 floats per tile. Instance slots are written in place and uploaded with update ranges, so a frame
 * that recolours a few tiles uploads a few bytes; the buffer grows by doubling (a fresh upload then,
 * amortised O(1) per tile). Fast on GPUs; in software WebGL (SwiftShader) each instance costs ~20 µs, which
 * is why `MergedTiles` is the default.
 */
import { DoubleSide, DynamicDrawUsage, InstancedBufferAttribute, InstancedMesh, MeshBasicMaterial, PlaneGeometry, type Color, type Group } from 'three';
import type { Rect } from './level-layout.js';
import { TileBuffers, type TileAttribute } from './tile-layer.js';

export class InstancedTiles extends TileBuffers {
  private readonly parent: Group;
  private readonly geometry = new PlaneGeometry(1, 1);
  // Colours live per instance; the material stays white so instanceColor is the colour.
  private readonly material = new MeshBasicMaterial({ color: 0xffffff, side: DoubleSide, depthTest: false, depthWrite: false });
  private mesh: InstancedMesh;

  constructor(parent: Group, options: { gap: number; tileColor: Color; seenColor: Color }) {
    super(options);
    this.parent = parent;
    this.mesh = this.createMesh(this.capacity);
  }

  dispose(): void {
    this.parent.remove(this.mesh);
    this.mesh.dispose();
    this.geometry.dispose();
    this.material.dispose();
  }

  protected writeTile(index: number, r: Rect, inset: number): void {
    const width = r.x1 - r.x0;
    const height = r.y1 - r.y0;
    const m = this.mesh.instanceMatrix.array as Float32Array;
    const o = index * 16;
    m[o] = Math.max(width - 2 * inset, 0);
    m[o + 5] = Math.max(height - 2 * inset, 0);
    m[o + 10] = 1;
    m[o + 12] = r.x0 + width / 2;
    m[o + 13] = r.y0 + height / 2;
    m[o + 15] = 1;
  }

  protected writeColor(index: number, c: Color): void {
    const a = this.colorAttribute().array as Float32Array;
    a[index * 3] = c.r;
    a[index * 3 + 1] = c.g;
    a[index * 3 + 2] = c.b;
  }

  protected setDrawCount(count: number): void {
    this.mesh.count = count;
  }

  protected attributes(): { perTile: TileAttribute[]; color: { attribute: InstancedBufferAttribute; floatsPerTile: number } } {
    const color = { attribute: this.colorAttribute(), floatsPerTile: 3 };
    return { perTile: [{ attribute: this.mesh.instanceMatrix, floatsPerTile: 16 }, color], color };
  }

  protected reallocate(capacity: number): void {
    const old = this.mesh;
    const mesh = this.createMesh(capacity);
    (mesh.instanceMatrix.array as Float32Array).set((old.instanceMatrix.array as Float32Array).subarray(0, this.count * 16));
    ((mesh.instanceColor as InstancedBufferAttribute).array as Float32Array).set(this.colorAttribute().array.subarray(0, this.count * 3) as Float32Array);
    mesh.count = this.count;
    this.parent.remove(old);
    // Frees the old instance buffers on the GPU (the geometry and material are shared and stay).
    old.dispose();
    this.mesh = mesh;
  }

  private colorAttribute(): InstancedBufferAttribute {
    return this.mesh.instanceColor as InstancedBufferAttribute;
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
}
