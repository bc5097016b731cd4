/**
 * /viewer: napari's octree tiles with @webmon/tile-viewer. The viewer's own controls choose the layer
 * and toggle napari's tile grid; the toggle's command goes to napari through the page context.
 */
import { definePageFor } from '@webmon/page-kit';
import type { NapariTopicPayloads } from '@webmon/napari';
import { createTileViewer } from '@webmon/tile-viewer';
import { BUILT_IN_PAGES } from './built-in.js';

export const page = definePageFor<NapariTopicPayloads>()({
  ...BUILT_IN_PAGES.viewer,
  mount(element, context) {
    const root = document.createElement('div');
    root.style.cssText = 'position:relative;flex:1;min-height:0;display:flex;flex-direction:column;';
    const notice = document.createElement('div');
    notice.dataset['role'] = 'viewer-notice';
    notice.setAttribute('role', 'status');
    notice.style.cssText = 'position:absolute;left:50%;top:45%;transform:translate(-50%,-50%);color:#9aa0a6;font-size:1.1rem;pointer-events:none;z-index:1;';
    const canvasHost = document.createElement('div');
    canvasHost.style.cssText = 'flex:1;min-height:0;position:relative;';
    root.append(canvasHost, notice);
    element.replaceChildren(root);

    const viewer = createTileViewer(canvasHost, { controls: true });
    let polls = 0;
    const showNotice = (): void => {
      const { source } = context.connection;
      notice.textContent = polls > 0 ? '' : source === 'connected' ? 'connected — waiting for an octree layer' : source === 'waiting' ? 'waiting for napari' : 'disconnected';
    };
    showNotice();
    context.onConnection(showNotice);

    context.subscribe('napari.layers', (poll) => {
      try {
        viewer.update(poll);
        polls++;
        root.dataset['polls'] = String(polls);
        root.dataset['layers'] = String(viewer.layers().length);
        if (polls === 1) showNotice();
      } catch (error) {
        // One bad poll leaves the picture as it was; say why instead of failing silently.
        console.warn('webmon viewer: poll skipped:', error);
      }
    });

    viewer.on('command', ({ name, args }) => {
      context.command(name, args).then(
        () => {
          root.dataset['lastCommand'] = `${name}=${String(args)}`;
        },
        (error: unknown) => {
          root.dataset['lastCommand'] = `${name} failed`;
          notice.textContent = `napari did not take ${name}: ${(error as Error).message}`;
        },
      );
    });

    return () => {
      viewer.dispose();
      root.remove();
    };
  },
});
