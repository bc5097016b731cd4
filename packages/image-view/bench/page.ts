/**
 * Benchmark page: one image view at a time, fed 1024² float32 frames by a simulated relay — a writer
 * publishing at a fixed rate from a thread of its own (as a Python writer is a process of its own; its
 * clock does not stop when the page's main thread is busy, and its messages queue up for the page as a
 * socket's would) and a credit window of one frame (the next frame is handed over when the view
 * has drawn the last, coalesced to the newest, as `@webmon/relay` does for a page that acknowledges
 * drawn frames). Measures, on the page's main thread: time in the frame handler (`show`), time in
 * animation-frame callbacks (the view's draw), long tasks, and how late a 10 ms ping gets through.
 */
import { float16Bits, type FrameView } from '@webmon/protocol';
import { createImageView, type ImageViewReadout } from '../src/index.js';

/** What a run feeds and how it draws: float32 in a worker or not, or a view dtype uploaded natively or read back on the CPU. */
export interface RunSetup {
  mode: 'main' | 'worker';
  dtype: 'float32' | 'float16' | 'uint8';
  native: boolean;
}

export interface RunResult extends RunSetup {
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

type Data = Float32Array | Uint16Array | Uint8Array;

/** Distinct frames (a moving pattern over [0, 1]) in `dtype`, made once: the run only copies one into a fresh buffer per delivery, as a socket would. */
function makeFrames(side: number, count: number, dtype: RunSetup['dtype']): Data[] {
  return Array.from({ length: count }, (_, k) => {
    const data = dtype === 'float32' ? new Float32Array(side * side) : dtype === 'float16' ? new Uint16Array(side * side) : new Uint8Array(side * side);
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) {
        const value = 0.5 + 0.5 * Math.sin((x + 7 * k) / 37) * Math.cos((y - 5 * k) / 29);
        data[y * side + x] = dtype === 'float32' ? value : dtype === 'float16' ? float16Bits(value) : Math.round(value * 254);
      }
    }
    return data;
  });
}

/** The view header a relay puts on a uint8 view of a [0, 1] source (value = code / 254, 255 = NaN). */
const uint8View = (side: number): FrameView => ({
  request: { maxShape: [side, side], dtype: 'uint8' },
  source: { shape: [side, side], dtype: 'float32' },
  region: { y0: 0, x0: 0, y1: side, x1: side },
  step: 1,
  scale: 1 / 254,
  offset: 0,
});

let frames: Data[] = [];
let framesKey = '';

/** The writer: a worker that posts its wall-clock publish time at `hz`, and its count when stopped. */
const WRITER = `let timer, count = 0;
onmessage = ({ data }) => {
  if (data.hz) timer = setInterval(() => { count++; postMessage(performance.timeOrigin + performance.now()); }, 1000 / data.hz);
  else { clearInterval(timer); postMessage({ published: count }); }
};`;
const writerUrl = URL.createObjectURL(new Blob([WRITER], { type: 'text/javascript' }));
const wallClock = (): number => performance.timeOrigin + performance.now();

export const bench = {
  async run(setup: RunSetup, seconds: number, hz: number, side: number): Promise<RunResult> {
    const { mode, dtype, native } = setup;
    if (framesKey !== `${dtype} ${side}`) {
      frames = makeFrames(side, 6, dtype);
      framesKey = `${dtype} ${side}`;
    }
    const container = document.createElement('div');
    container.style.cssText = `position:absolute;left:0;top:0;width:${side}px;height:${side}px;`;
    document.body.append(container);
    const view = createImageView(container, { fit: 'container', worker: mode === 'worker', nativeTextures: native, interactive: false });
    const header = dtype === 'uint8' ? uint8View(side) : undefined;

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
      const shown = view.show({ data, shape: [side, side], dtype, view: header, meta: { contrast_limits: [0, 1], colormap: 'viridis' } });
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
      ...setup,
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
