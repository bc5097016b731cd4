/** Values the server and the built-in pages must agree on (imported by both builds). */

/** The loader charts' window; the stream topics replay this much history to a page that opens late. */
export const CHART_WINDOW_MS = 10_000;
