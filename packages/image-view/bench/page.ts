/**
 * Benchmark page: one image view at a time, fed 1024² float32 frames by a simulated relay — a writer
 * publishing at a fixed rate from a thread of its own (as a Python writer is a process of its own; its
 * clock does not stop when the page's main thread is busy, and its messages queue up for the page as a
 * socket's would) and a credit window of one frame (the next frame is handed over when the view
 * has drawn the last, coalesced to the newest, as `@webmon/relay` does for a page that acknowledges
 * drawn frames). Measures, on the page's main thread: time in the frame handler (`show`), time in
 * animation-frame callbacks (the view's draw), long tasks, and how late a 10 ms ping gets through.
 */
import { createImageView, type ImageViewReadout } from '../src/index.js';

export interface RunResult {
  mode: 'main' | 'worker';
  readout: ImageViewReadout;
  seconds: number;
  published: number;
  delivered: number;
  drawn: number;
  drawnPerSecond: number;
  /** Main-thread ms per drawn frame: in `show()`, in animation-frame callbacks, both. */
  handlerMs: number;
  rafMs: number;
  busyMs: number;
  /** Long tasks (> 50 ms) on the main thread during the run: total ms, count. */
  longTaskMs: number;
  longTasks: number;
  /** Delay of a ping posted every 10 ms (MessageChannel) beyond its due time, ms. */
  pingP50: number;
  pingP99: number;
  /** Publish → drawn, ms. */
  ageP50: number;
  ageP99: number;
}

// Every animation-frame callback timed (the view's draw runs in one); installed before any view exists.
let rafBusy = 0;
const nativeRaf = window.requestAnimationFrame.bind(window);
window.requestAnimationFrame = (callback) =>
  nativeRaf((time) => {
    const start = performance.now();
    try {
      callback(time);
    } finally {
      rafBusy += performance.now() - start;
    }
  });

const quantile = (values: number[], q: number): number => {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
};

/** Distinct frames (a moving pattern), made once: the run only copies one into a fresh buffer per delivery, as a socket would. */
function makeFrames(side: number, count: number): Float32Array[] {
  return Array.from({ length: count }, (_, k) => {
    const data = new Float32Array(side * side);
    for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) data[y * side + x] = 0.5 + 0.5 * Math.sin((x + 7 * k) / 37) * Math.cos((y - 5 * k) / 29);
    return data;
  });
}

let frames: Float32Array[] = [];

/** The writer: a worker that posts its wall-clock publish time at `hz`, and its count when stopped. */
const WRITER = `let timer, count = 0;
onmessage = ({ data }) => {
  if (data.hz) timer = setInterval(() => { count++; postMessage(performance.timeOrigin + performance.now()); }, 1000 / data.hz);
  else { clearInterval(timer); postMessage({ published: count }); }
};`;
const writerUrl = URL.createObjectURL(new Blob([WRITER], { type: 'text/javascript' }));
const wallClock = (): number => performance.timeOrigin + performance.now();

export const bench = {
  async run(mode: 'main' | 'worker', seconds: number, hz: number, side: number): Promise<RunResult> {
    if (frames.length === 0 || frames[0]!.length !== side * side) frames = makeFrames(side, 6);
    const container = document.createElement('div');
    container.style.cssText = `position:absolute;left:0;top:0;width:${side}px;height:${side}px;`;
    document.body.append(container);
    const view = createImageView(container, { fit: 'container', worker: mode === 'worker', interactive: false });

    let published = 0;
    let delivered = 0;
    let drawn = 0;
    let handler = 0;
    let newest: { index: number; time: number } | undefined;
    let inFlight = false;
    const ages: number[] = [];
    const deliver = (): void => {
      if (inFlight || newest === undefined) return;
      const { index, time } = newest;
      newest = undefined;
      inFlight = true;
      delivered++;
      const data = frames[index % frames.length]!.slice(); // the socket's fresh message buffer
      const start = performance.now();
      const shown = view.show({ data, shape: [side, side], dtype: 'float32', meta: { contrast_limits: [0, 1], colormap: 'viridis' } });
      handler += performance.now() - start;
      void shown.then((outcome) => {
        inFlight = false;
        if (outcome === 'drawn') {
          drawn++;
          ages.push(wallClock() - time);
        }
        deliver(); // the acknowledgement frees the window: the relay sends the newest frame waiting
      });
    };

    // Warm-up: the first frames compile shaders and size textures (and start the worker).
    for (let i = 0; i < 5; i++) {
      newest = { index: i, time: wallClock() };
      deliver();
      while (inFlight) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    published = delivered = drawn = 0;
    handler = 0;
    ages.length = 0;
    rafBusy = 0;

    let longTaskMs = 0;
    let longTasks = 0;
    const observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        longTaskMs += entry.duration;
        longTasks++;
      }
    });
    observer.observe({ type: 'longtask', buffered: false });
    const pings: number[] = [];
    const channel = new MessageChannel();
    let pingDue = 0;
    channel.port1.onmessage = () => pings.push(performance.now() - pingDue);
    const pinger = setInterval(() => {
      pingDue = performance.now();
      channel.port2.postMessage(0);
    }, 10);

    const started = performance.now();
    const writer = new Worker(writerUrl);
    let received = 0;
    const stopped = new Promise<number>((resolve) => {
      writer.onmessage = ({ data }: MessageEvent<number | { published: number }>) => {
        if (typeof data !== 'number') return resolve(data.published);
        newest = { index: received++, time: data };
        deliver();
      };
    });
    writer.postMessage({ hz });
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    writer.postMessage({ stop: true });
    published = await stopped;
    writer.terminate();
    const elapsed = (performance.now() - started) / 1000;
    const raf = rafBusy;
    const handled = handler;
    const count = drawn;
    clearInterval(pinger);
    observer.disconnect();
    channel.port1.close();
    while (inFlight) await new Promise((resolve) => setTimeout(resolve, 5));
    const readout = view.readOut();
    view.dispose();
    container.remove();
    return {
      mode,
      readout,
      seconds: elapsed,
      published,
      delivered,
      drawn: count,
      drawnPerSecond: count / elapsed,
      handlerMs: handled / count,
      rafMs: raf / count,
      busyMs: (handled + raf) / count,
      longTaskMs,
      longTasks,
      pingP50: quantile(pings, 0.5),
      pingP99: quantile(pings, 0.99),
      ageP50: quantile(ages, 0.5),
      ageP99: quantile(ages, 0.99),
    };
  },
};

export type Bench = typeof bench;
(window as unknown as { bench: Bench }).bench = bench;
(window as unknown as { benchReady: boolean }).benchReady = true;
