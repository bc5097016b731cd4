/**
 * `BENCH_TRACE=<prefix>` in the latency bench: where the bench tab's main thread spends the measured window,
 * from a Chromium trace of it. A poll that reaches the tab waits for whatever task the main thread is running,
 * so the long tasks and what is inside them bound put → handler (and so put → drawn).
 */
import { readFile } from 'node:fs/promises';

interface TraceEvent {
  name: string;
  cat?: string;
  ph: string;
  pid: number;
  tid: number;
  ts: number;
  dur?: number;
  args?: { name?: string; data?: { frames?: { url?: string; processId?: number }[]; url?: string; frame?: string } };
}

/** Inside a task, what it did: the outermost event of each of these names counts (ms of wall time). */
const PARTS: [part: string, names: readonly string[]][] = [
  ['animation frame callbacks (the draw: tile view update, three.js render calls)', ['FireAnimationFrame']],
  ['WebSocket message handlers and other script', ['FunctionCall', 'EventDispatch', 'v8.callFunction', 'TimerFire', 'RunMicrotasks']],
  ['commit to the compositor', ['ProxyMain::BeginMainFrame::commit', 'LayerTreeHost::DoUpdateLayers', 'Commit']],
  ['style, layout, paint', ['UpdateLayoutTree', 'Layout', 'Paint', 'PrePaint', 'UpdateLayer', 'LocalFrameView::RunPaintLifecyclePhase', 'LocalFrameView::RunStyleAndLayoutLifecyclePhases']],
  ['garbage collection', ['MinorGC', 'MajorGC', 'V8.GC_SCAVENGER', 'V8.GC_MARK_COMPACTOR', 'BlinkGC.AtomicPhase']],
];

export interface MainThreadBreakdown {
  /** The tab's main thread busy (top-level tasks), fraction of the window. */
  busy: number;
  tasks: number;
  taskP50: number;
  taskP99: number;
  taskMax: number;
  /** Wall time of tasks over 4 ms, ms per second of window, and what was in them (ms per second, by part). */
  longMsPerSecond: number;
  longParts: [part: string, msPerSecond: number][];
  /** The five longest tasks: duration and their largest inner events. */
  longest: { ms: number; inside: string }[];
}

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;

/** The main thread of the renderer that loaded a page whose URL contains `urlPart`. */
export async function mainThreadBreakdown(path: string, urlPart: string): Promise<MainThreadBreakdown> {
  const { traceEvents } = JSON.parse(await readFile(path, 'utf8')) as { traceEvents: TraceEvent[] };
  const pids = new Set<number>();
  for (const event of traceEvents) {
    for (const frame of event.args?.data?.frames ?? []) if (frame.url?.includes(urlPart) && frame.processId !== undefined) pids.add(frame.processId);
    if (event.args?.data?.url?.includes(urlPart)) pids.add(event.pid);
  }
  const main = traceEvents.find((event) => event.name === 'thread_name' && event.args?.name === 'CrRendererMain' && pids.has(event.pid));
  if (!main) throw new Error(`the trace has no renderer main thread for a page at *${urlPart}*`);
  const events = traceEvents.filter((event) => event.ph === 'X' && event.pid === main.pid && event.tid === main.tid && event.dur !== undefined).sort((a, b) => a.ts - b.ts);
  const tasks = events.filter((event) => event.name === 'ThreadControllerImpl::RunTask');
  if (tasks.length === 0) throw new Error('no tasks on the main thread in the trace');
  const windowUs = tasks.at(-1)!.ts + tasks.at(-1)!.dur! - tasks[0]!.ts;
  const durations = tasks.map((task) => task.dur! / 1000).sort((a, b) => a - b);
  const longParts = new Map<string, number>();
  let longUs = 0;
  const longest: { ms: number; inside: string }[] = [];
  let cursor = 0;
  for (const task of tasks) {
    const end = task.ts + task.dur!;
    while (cursor < events.length && events[cursor]!.ts < task.ts) cursor++;
    const inside: TraceEvent[] = [];
    for (let index = cursor; index < events.length && events[index]!.ts < end; index++) if (events[index] !== task) inside.push(events[index]!);
    if (task.dur! < 4000) continue;
    longUs += task.dur!;
    // Outermost events of each part only: an event inside one already counted is not counted again.
    let coveredUntil = -1;
    for (const event of inside) {
      const part = PARTS.find(([, names]) => names.includes(event.name));
      if (!part || event.ts < coveredUntil) continue;
      coveredUntil = event.ts + event.dur!;
      longParts.set(part[0], (longParts.get(part[0]) ?? 0) + event.dur!);
    }
    const biggest = [...inside].sort((a, b) => b.dur! - a.dur!).slice(0, 4).map((event) => `${event.name} ${(event.dur! / 1000).toFixed(1)}`);
    longest.push({ ms: task.dur! / 1000, inside: biggest.join(', ') });
  }
  const perSecond = (us: number): number => us / 1000 / (windowUs / 1e6);
  return {
    busy: tasks.reduce((sum, task) => sum + task.dur!, 0) / windowUs,
    tasks: tasks.length,
    taskP50: percentile(durations, 50),
    taskP99: percentile(durations, 99),
    taskMax: durations.at(-1)!,
    longMsPerSecond: perSecond(longUs),
    longParts: PARTS.map(([part]) => [part, perSecond(longParts.get(part) ?? 0)]),
    longest: longest.sort((a, b) => b.ms - a.ms).slice(0, 5),
  };
}
