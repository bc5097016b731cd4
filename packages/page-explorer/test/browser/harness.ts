/** Page script of the Chromium tests: the tree's real source, bundled by esbuild. */
import { createJsonTree } from '../../src/json-tree.js';
import { EXPLORER_CSS } from '../../src/style.js';

const style = document.head.appendChild(document.createElement('style'));
style.textContent = EXPLORER_CSS;

const harness = { createJsonTree };
declare global {
  interface Window {
    harness: typeof harness;
  }
}
window.harness = harness;
document.title = 'harness';
