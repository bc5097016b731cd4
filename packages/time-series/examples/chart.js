// examples/chart.js
import { createTimeSeriesChart } from '@webmon/time-series';

// Ten minutes of two fields at 60 Hz: wheel to zoom, drag to pan, double-click to follow the live edge again.
const chart = createTimeSeriesChart(document.querySelector('#chart'), { windowMs: 600_000, title: 'frame time', yLabel: 'ms' });
chart.addSeries({ id: 'napari.frame_time.delta_ms', label: 'frame_time.delta_ms' });
chart.addSeries({ id: 'napari.frame_time.draw_ms', label: 'frame_time.draw_ms' });

// A stand-in for a program's fields: points (time in ms, value) as they arrive, one per field every 1/60 s.
let frame = 0;
const timer = setInterval(() => {
  const now = Date.now();
  const delta = 16 + 2 * Math.sin(frame / 30) + (frame % 600 === 0 ? 40 : 0); // a spike every 10 s
  chart.push('napari.frame_time.delta_ms', now, delta);
  chart.push('napari.frame_time.draw_ms', now, frame % 1200 < 60 ? Number.NaN : delta / 2); // NaN: a gap
  frame++;
}, 1000 / 60);

// Pause freezes the picture (zoom and pan still work); points keep arriving and show on resume.
const pause = document.querySelector('#pause');
pause.onclick = () => {
  chart.setPaused(!chart.paused);
  pause.textContent = chart.paused ? 'Resume' : 'Pause';
};
document.querySelector('#follow').onclick = () => chart.setView('follow');
// When the page goes away: clearInterval(timer); chart.destroy();
