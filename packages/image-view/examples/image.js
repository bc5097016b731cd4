// examples/image.js
import { createImageView } from '@webmon/image-view';

// The view appends its canvas to the element; with the default fit it takes the image's proportions.
const view = createImageView(document.querySelector('#image'), {
  colormap: 'magma',
  contrastLimits: [-1, 1],
  // What to ask the server for (webmon's relay computes it): here, just shown.
  onViewChange: (wanted) => (document.querySelector('#asked').textContent = JSON.stringify(wanted)),
});

// A frame as @webmon/page-kit or @webmon/relay/client delivers a binary topic: typed array, shape, dtype.
const [rows, cols] = [384, 512];
const data = new Float32Array(rows * cols);
let t = 0;
function next() {
  for (let y = 0; y < rows; y++) {
    for (let x = 0; x < cols; x++) data[y * cols + x] = Math.sin(x / 23 + t) * Math.cos(y / 17 - t / 2);
  }
  t += 0.1;
  return { data, shape: [rows, cols], dtype: 'float32' };
}

// Each show() resolves once that frame is on screen: then take the next (a host acknowledges it here).
async function loop() {
  while (document.querySelector('#image').isConnected) {
    await view.show(next());
  }
}
loop();
// When the page goes away: view.dispose();
