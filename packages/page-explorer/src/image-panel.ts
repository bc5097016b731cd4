/**
 * A binary array topic as an image: the `@webmon/image-view` widget (WebGL2, colour map and contrast
 * limits, wheel zoom and drag pan) with a small bar to choose both, and a line saying what arrived.
 * The widget says which array view to ask for (its canvas in device pixels, the region shown), and the
 * panel hands that to the server, so a 1024² source shown in a 300-pixel card travels at 300².
 */
import { COLORMAP_NAMES, createImageView, type ColormapName, type ContrastLimits, type ImageView } from '@webmon/image-view';
import type { ArrayView, DecodedFrame } from '@webmon/protocol';

export interface ImagePanelOptions {
  /** Asks the server for another view of the topic (the page's `context.setView`). */
  setView: (view: ArrayView) => Promise<void>;
}

export interface ImagePanel {
  /** The view to subscribe with first. */
  view(): ArrayView;
  /** Draws a frame; resolves when it is on screen (or replaced by a newer one). A frame that is no image is described instead. */
  show(frame: DecodedFrame): Promise<void>;
  dispose(): void;
}

const describe = (frame: DecodedFrame): string => `${frame.dtype} [${frame.shape.join(' × ')}]${frame.view ? ` (view ${frame.view.step > 1 ? `1/${frame.view.step}` : 'full'})` : ''}`;

export function createImagePanel(container: HTMLElement, options: ImagePanelOptions): ImagePanel {
  const element = container.appendChild(document.createElement('div'));
  element.className = 'wx-image';
  element.dataset['role'] = 'image';
  const bar = element.appendChild(document.createElement('div'));
  bar.className = 'wx-image-bar';
  const colormap = bar.appendChild(document.createElement('select'));
  colormap.dataset['role'] = 'colormap';
  colormap.title = 'colour map';
  colormap.append(new Option("producer's", 'producer'), ...COLORMAP_NAMES.map((name) => new Option(name, name)));
  const contrast = bar.appendChild(document.createElement('select'));
  contrast.dataset['role'] = 'contrast';
  contrast.title = 'contrast limits';
  contrast.append(new Option("producer's limits", 'producer'), new Option('auto (0.5–99.5 %)', 'auto'), new Option('fixed', 'fixed'));
  const low = bar.appendChild(document.createElement('input'));
  const high = bar.appendChild(document.createElement('input'));
  for (const [input, role] of [
    [low, 'low'],
    [high, 'high'],
  ] as const) {
    input.type = 'number';
    input.step = 'any';
    input.dataset['role'] = role;
    input.title = `contrast limit, ${role}`;
  }
  const info = bar.appendChild(document.createElement('span'));
  info.dataset['role'] = 'frame';
  const box = element.appendChild(document.createElement('div'));
  box.className = 'wx-image-box';

  const image: ImageView = createImageView(box, {
    fit: 'image',
    maxHeight: '22rem',
    onViewChange: (view) => {
      options.setView(view).catch(() => undefined); // refused (rate, shape): the frames stay as they were
    },
    onDraw: (readout) => {
      element.dataset['drawn'] = String(readout.drawn);
      // The limits in use, shown while the user has not fixed their own.
      if (contrast.value !== 'fixed') {
        low.value = String(Math.round(readout.limits[0] * 1e4) / 1e4);
        high.value = String(Math.round(readout.limits[1] * 1e4) / 1e4);
      }
      if (colormap.value === 'producer') colormap.title = `colour map (producer's: ${readout.colormap})`;
    },
  });
  image.canvas.dataset['role'] = 'image-canvas';

  const fixLimits = (): void => {
    const limits: ContrastLimits = [Number(low.value), Number(high.value)];
    if (!limits.every(Number.isFinite) || limits[1] < limits[0]) return;
    contrast.value = 'fixed';
    image.setContrastLimits(limits);
  };
  colormap.addEventListener('change', () => image.setColormap(colormap.value as ColormapName | 'producer'));
  contrast.addEventListener('change', () => (contrast.value === 'fixed' ? fixLimits() : image.setContrastLimits(contrast.value as 'auto' | 'producer')));
  low.addEventListener('change', fixLimits);
  high.addEventListener('change', fixLimits);

  return {
    view: () => image.view(),
    async show(frame) {
      info.textContent = describe(frame);
      try {
        await image.show(frame);
        box.hidden = false;
      } catch {
        // Not a 2-D image (a vector, a record array, colour channels): the description says what it is.
        box.hidden = true;
      }
    },
    dispose() {
      image.dispose();
      element.remove();
    },
  };
}
