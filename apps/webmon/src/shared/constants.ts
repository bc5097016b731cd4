/** Values the server and the built-in pages must agree on (imported by both builds). */

/** The loader charts' window; the stream topics replay this much history to a page that opens late. */
export const CHART_WINDOW_MS = 10_000;

/**
 * History of the live sources' JSON `latest` topics (napari's info and data keys; not its 60 Hz layer polls) sent to a page that opens late (protocol 1.5), so its
 * charts show the last minute at once — after a seek in a replay too, where every page starts again.
 */
export const CHART_HISTORY_MS = 60_000;
