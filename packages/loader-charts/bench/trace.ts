/**
 * `LC_BENCH_TRACE=1`: where a frame's main-thread time goes, from a Chromium trace of one extra run of a
 * case (the trace costs time itself, so its totals are not the bench's figures). Sums the thread time
 * (`tdur`) of the renderer main thread's trace events per animation frame, for the phases that matter to
 * the charts: script run from requestAnimationFrame (changesets, Vega's dataflow and its canvas calls),
 * the commit (where Chromium rasterises the canvases' recorded drawing in software), and style, layout and
 * paint of the page.
 */
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface TraceEvent {
  name: string;
  ph: string;
  pid: number;
  tid: number;
  dur?: number;
  tdur?: number;
  args?: { name?: string };
}

/** Trace event → the phase it is counted in (events nest: each phase names its outermost event only). */
const PHASES: [phase: string, event: string][] = [
  ['script in animation frames (charts, Vega dataflow, canvas calls)', 'FireAnimationFrame'],
  ['commit (software raster of the canvases)', 'LayerTreeHost::DoUpdateLayers'],
  ['style and layout', 'LocalFrameView::RunStyleAndLayoutLifecyclePhases'],
  ['pre-paint', 'LocalFrameView::RunPrePaintLifecyclePhase'],
  ['paint', 'LocalFrameView::RunPaintLifecyclePhase'],
  ['garbage collection (minor)', 'MinorGC'],
  ['garbage collection (major)', 'MajorGC'],
  ['all main-thread tasks', 'ThreadControllerImpl::RunTask'],
];

export const TRACE_CATEGORIES = ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'blink', 'cc', 'toplevel', 'v8'];

/** A trace file written by `browser.startTracing` → ms of main-thread time per frame, per phase of PHASES. */
export async function traceBreakdown(path: string, frames: number): Promise<[phase: string, ms: number][]> {
  const { traceEvents } = JSON.parse(await readFile(path, 'utf8')) as { traceEvents: TraceEvent[] };
  await rm(path, { force: true });
  const main = traceEvents.find((event) => event.name === 'thread_name' && event.args?.name === 'CrRendererMain');
  if (!main) throw new Error('the trace has no CrRendererMain thread');
  const totals = new Map<string, number>();
  for (const event of traceEvents) {
    if (event.ph !== 'X' || event.pid !== main.pid || event.tid !== main.tid) continue;
    totals.set(event.name, (totals.get(event.name) ?? 0) + (event.tdur ?? event.dur ?? 0));
  }
  return PHASES.map(([phase, name]) => [phase, (totals.get(name) ?? 0) / 1000 / Math.max(1, frames)]);
}

/** Where the trace of one run goes. */
export function tracePath(): string {
  return join(tmpdir(), `loader-charts-trace-${process.pid}.json`);
}
