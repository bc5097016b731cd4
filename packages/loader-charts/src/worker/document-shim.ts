/**
 * Put before Vega's code in the worker bundle (a tsup banner; an imported module would run after Vega's, and
 * "sideEffects": false lets a bundler drop it): a worker has no `document`, and Vega makes every canvas, the
 * one it measures text with at module load among them, with `document.createElement('canvas')`.
 */
export const DOCUMENT_SHIM =
  "if (typeof document === 'undefined') globalThis.document = { createElement: () => new OffscreenCanvas(1, 1) };";
