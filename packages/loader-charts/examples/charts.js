// examples/charts.js
import { createLoaderCharts } from '@webmon/loader-charts';

// Frame time, chunk load time and chunk size over a sliding 10 s window, and a summary beside them.
const charts = createLoaderCharts(document.querySelector('#loader'));

// napari 0.4's monitor sends a frame_time message every frame and a load_chunk message per chunk it
// loads (through webmon: the napari.frame_time and napari.load_chunk topics). A stand-in at 60 Hz:
let frame = 0;
const timer = setInterval(() => {
  const time = Date.now() / 1000; // napari's time.time(): seconds since the epoch
  charts.push({ time, delta_ms: 16 + 4 * Math.sin(frame / 20) });
  if (frame % 3 === 0) charts.push({ time, load_ms: 5 + (frame % 40), num_bytes: 256 * 256 * 4 });
  frame++;
}, 1000 / 60);

// Pause freezes the picture; messages keep arriving into the window and show on resume.
const pause = document.querySelector('#pause');
pause.onclick = () => {
  if (charts.paused) charts.resume();
  else charts.pause();
  pause.textContent = charts.paused ? 'Resume' : 'Pause';
};
// When the page goes away: clearInterval(timer); charts.dispose();
