/**
 * Mouse, wheel and touch on the canvas, turned into pan / zoom / hover intents. Pointer events cover mouse,
 * pen and touch alike; two touching pointers pinch-zoom and pan together. Everything is removed by `detach`.
 */
export interface PointerIntents {
  pan(dx: number, dy: number): void;
  zoom(factor: number, x: number, y: number): void;
  hover(x: number, y: number): void;
  leave(): void;
  fit(): void;
}

/** Wheel delta (pixels) per e-fold of zoom: one mouse-wheel notch (100 px) zooms about 1.2x. */
const WHEEL_PIXELS_PER_E = 550;
const LINE_HEIGHT_PX = 16;

export function attachPointerInput(canvas: HTMLCanvasElement, intents: PointerIntents): () => void {
  const pointers = new Map<number, { x: number; y: number }>();

  const local = (event: { clientX: number; clientY: number }): [number, number] => {
    const box = canvas.getBoundingClientRect();
    return [event.clientX - box.left, event.clientY - box.top];
  };

  const pinchState = (): { x: number; y: number; distance: number } | null => {
    if (pointers.size < 2) return null;
    const [a, b] = [...pointers.values()] as [{ x: number; y: number }, { x: number; y: number }];
    return { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2, distance: Math.hypot(a.x - b.x, a.y - b.y) };
  };

  const onPointerDown = (event: PointerEvent): void => {
    if (event.pointerType === 'mouse' && event.button !== 0) return;
    const [x, y] = local(event);
    pointers.set(event.pointerId, { x, y });
    canvas.setPointerCapture(event.pointerId);
    event.preventDefault();
  };

  const onPointerMove = (event: PointerEvent): void => {
    const [x, y] = local(event);
    const previous = pointers.get(event.pointerId);
    if (!previous) {
      intents.hover(x, y);
      return;
    }
    if (pointers.size >= 2) {
      const before = pinchState();
      pointers.set(event.pointerId, { x, y });
      const after = pinchState();
      if (before && after) {
        intents.pan(after.x - before.x, after.y - before.y);
        if (before.distance > 0 && after.distance > 0) intents.zoom(after.distance / before.distance, after.x, after.y);
      }
      return;
    }
    pointers.set(event.pointerId, { x, y });
    intents.pan(x - previous.x, y - previous.y);
    intents.hover(x, y);
  };

  const onPointerUp = (event: PointerEvent): void => {
    if (!pointers.delete(event.pointerId)) return;
    if (canvas.hasPointerCapture(event.pointerId)) canvas.releasePointerCapture(event.pointerId);
  };

  const onPointerLeave = (): void => {
    if (pointers.size === 0) intents.leave();
  };

  const onWheel = (event: WheelEvent): void => {
    // Keep the page from scrolling while the cursor zooms the view.
    event.preventDefault();
    const unit = event.deltaMode === 1 ? LINE_HEIGHT_PX : event.deltaMode === 2 ? canvas.clientHeight : 1;
    const [x, y] = local(event);
    intents.zoom(Math.exp((-event.deltaY * unit) / WHEEL_PIXELS_PER_E), x, y);
  };

  const onDoubleClick = (event: MouseEvent): void => {
    event.preventDefault();
    intents.fit();
  };

  canvas.addEventListener('pointerdown', onPointerDown);
  canvas.addEventListener('pointermove', onPointerMove);
  canvas.addEventListener('pointerup', onPointerUp);
  canvas.addEventListener('pointercancel', onPointerUp);
  canvas.addEventListener('pointerleave', onPointerLeave);
  canvas.addEventListener('wheel', onWheel, { passive: false });
  canvas.addEventListener('dblclick', onDoubleClick);

  return () => {
    canvas.removeEventListener('pointerdown', onPointerDown);
    canvas.removeEventListener('pointermove', onPointerMove);
    canvas.removeEventListener('pointerup', onPointerUp);
    canvas.removeEventListener('pointercancel', onPointerUp);
    canvas.removeEventListener('pointerleave', onPointerLeave);
    canvas.removeEventListener('wheel', onWheel);
    canvas.removeEventListener('dblclick', onDoubleClick);
    pointers.clear();
  };
}
