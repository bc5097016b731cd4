/**
 * /viewer: napari's octree tiles with @webmon/tile-viewer. The tile view (and its grid toggle, whose
 * command goes to napari through the page context) exists only while napari sends an octree layer;
 * otherwise the page says plainly which napari sends tiles and which does not (`napari.info`).
 */
import { definePageFor } from '@webmon/page-kit';
import type { NapariInfo, NapariTopicPayloads, Poll } from '@webmon/napari';
import { createTileViewer, type TileViewer } from '@webmon/tile-viewer';
import { BUILT_IN_PAGES } from './built-in.js';

/** True when the poll holds a layer with tile data (napari 0.4 with NAPARI_OCTREE=1). */
function hasOctreeLayer(poll: Poll): boolean {
  return Object.values(poll.layers).some((layer) => layer.tile_config !== undefined && layer.tile_state !== undefined);
}

export const page = definePageFor<NapariTopicPayloads>()({
  ...BUILT_IN_PAGES.viewer,
  mount(element, context) {
    const root = document.createElement('div');
    root.style.cssText = 'position:relative;flex:1;min-height:0;display:flex;flex-direction:column;';
    root.dataset['tiles'] = 'none';
    const notice = document.createElement('div');
    notice.dataset['role'] = 'viewer-notice';
    notice.setAttribute('role', 'status');
    notice.style.cssText = 'position:absolute;left:50%;top:45%;transform:translate(-50%,-50%);max-width:36rem;text-align:center;color:#9aa0a6;font-size:1.1rem;line-height:1.5;pointer-events:none;z-index:1;';
    const canvasHost = document.createElement('div');
    canvasHost.style.cssText = 'flex:1;min-height:0;position:relative;';
    root.append(canvasHost, notice);
    element.replaceChildren(root);

    let viewer: TileViewer | undefined;
    let info: NapariInfo | undefined;
    let polls = 0;
    /** Why napari did not take the last command (a replay refuses every one): shown for a while over the tiles. */
    let commandProblem: string | undefined;
    let problemTimer: ReturnType<typeof setTimeout> | undefined;

    const showNotice = (): void => {
      const { source } = context.connection;
      notice.style.color = viewer !== undefined && commandProblem !== undefined ? '#ff6b6b' : '#9aa0a6';
      if (viewer !== undefined) notice.textContent = commandProblem ?? '';
      else if (source === 'waiting') notice.textContent = 'waiting for napari';
      else if (source === 'disconnected') notice.textContent = 'disconnected';
      else if (info !== undefined && !info.octree && polls > 0) notice.textContent = `No tile view: ${info.summary}.`;
      else notice.textContent = 'connected — waiting for an octree layer';
    };

    /** The tile view exists only while there are tiles to show (and with it the grid toggle). */
    const setTileView = (on: boolean): void => {
      if (on && viewer === undefined) {
        viewer = createTileViewer(canvasHost, { controls: true });
        viewer.on('command', ({ name, args }) => {
          context.command(name, args, { topic: 'napari.layers' }).then(
            () => {
              root.dataset['lastCommand'] = `${name}=${String(args)}`;
            },
            (error: unknown) => {
              const code = (error as { code?: unknown }).code;
              root.dataset['lastCommand'] = `${name} failed`;
              root.dataset['commandError'] = typeof code === 'string' ? code : 'error';
              // Kept over the next polls (showNotice would blank it at once while tiles arrive), then cleared.
              commandProblem = `napari did not take ${name}: ${(error as Error).message}${typeof code === 'string' ? ` (${code})` : ''}`;
              clearTimeout(problemTimer);
              problemTimer = setTimeout(() => {
                commandProblem = undefined;
                showNotice();
              }, 8_000);
              showNotice();
            },
          );
        });
      } else if (!on && viewer !== undefined) {
        viewer.dispose();
        viewer = undefined;
      }
      root.dataset['tiles'] = on ? 'shown' : 'none';
      showNotice();
    };

    showNotice();
    context.onConnection(showNotice);
    context.subscribe('napari.info', (next) => {
      info = next;
      showNotice();
    });
    context.subscribe('napari.layers', (poll) => {
      polls++;
      root.dataset['polls'] = String(polls);
      setTileView(hasOctreeLayer(poll));
      if (viewer === undefined) return;
      try {
        viewer.update(poll);
        root.dataset['layers'] = String(viewer.layers().length);
      } catch (error) {
        // One bad poll leaves the picture as it was; say why instead of failing silently.
        console.warn('webmon viewer: poll skipped:', error);
      }
    });

    return () => {
      clearTimeout(problemTimer);
      viewer?.dispose();
      root.remove();
    };
  },
});
