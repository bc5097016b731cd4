// examples/viewer.js
import { createTileViewer } from '@webmon/tile-viewer';

// The viewer fills the element (give it a size with CSS) and follows its resizes.
const viewer = createTileViewer(document.querySelector('#tiles'));

// One layer as napari 0.4's monitor sends it (napari_data['poll']): level 1 of a 6000 × 8000 image in
// 256-px tiles, the 4 × 5 tiles napari draws, and its view: corners [[y0, x0], [y1, x1]] in level-0 pixels.
const level = { base_shape: [6000, 8000], image_shape: [3000, 4000], shape_in_tiles: [12, 16], tile_size: 256, level_index: 1 };
function poll(col) {
  const seen = [];
  for (let row = 4; row < 8; row++) for (let c = col; c < col + 5; c++) seen.push([row, c]);
  const corners = [[4.5 * 512, (col + 0.5) * 512], [7.5 * 512, (col + 4.5) * 512]];
  return { layers: { '140234567890123': { tile_config: level, tile_state: { seen, corners } } } };
}

// napari pans right: feed each poll as it comes; only what changed is redrawn.
let col = 0;
viewer.update(poll(col));
const timer = setInterval(() => {
  col = (col + 1) % 12;
  viewer.update(poll(col));
}, 500);

// The show-grid checkbox asks napari to draw its tile grid: send this on to napari (see @webmon/relay).
viewer.on('command', ({ name, args }) => console.log('for napari:', name, args));
// When the page goes away: clearInterval(timer); viewer.dispose();
