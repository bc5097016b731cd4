/**
 * /loader: frame times and chunk loads with @webmon/loader-charts. A page opened late gets the last
 * chart window from the server's replay and starts full.
 */
import { definePageFor } from '@webmon/page-kit';
import type { NapariTopicPayloads } from '@webmon/napari';
import { createLoaderCharts } from '@webmon/loader-charts';
import { BUILT_IN_PAGES } from './built-in.js';
import { CHART_WINDOW_MS } from '../shared/constants.js';

export const page = definePageFor<NapariTopicPayloads>()({
  ...BUILT_IN_PAGES.loader,
  mount(element, context) {
    const root = document.createElement('div');
    root.style.cssText = 'flex:1;min-height:0;overflow:auto;padding:1rem;';
    element.replaceChildren(root);
    let frameTimes = 0;
    let loadChunks = 0;
    const charts = createLoaderCharts(root, {
      windowMs: CHART_WINDOW_MS,
      // Vega in a worker drawing into the page's canvases (its file, charts-worker.js, is copied beside this
      // page's module by the build); the main thread only posts the messages. Falls back to the main thread
      // where the browser cannot.
      worker: true,
      // What is charted, for people and tests alike (drawn rows in the window, after each redraw).
      onUpdate: () => {
        const summary = charts.summary();
        root.dataset['frameRows'] = String(summary.frameTime.count);
        root.dataset['loadRows'] = String(summary.loads.count);
      },
    });
    // Where the charts run, for people and tests ('worker', or 'main' after a fallback).
    void charts.ready.then(() => (root.dataset['chartsMode'] = charts.mode), () => undefined);
    // Messages that arrive before the Vega views exist (the replayed window comes first, all at once) are
    // fine to push: the charts keep them and lay themselves out for them on the first draw.
    context.subscribe('napari.frame_time', (frameTime) => {
      frameTimes++;
      root.dataset['frameTimes'] = String(frameTimes);
      charts.push(frameTime);
    });
    context.subscribe('napari.load_chunk', (loadChunk) => {
      loadChunks++;
      root.dataset['loadChunks'] = String(loadChunks);
      charts.push(loadChunk);
    });
    return () => {
      charts.dispose();
      root.remove();
    };
  },
});
