/**
 * The optional built-in controls drawn over the canvas: layer choice, level indicator, show-grid toggle,
 * fit / reset buttons and the hover read-out. Plain DOM with inline styles: nothing global (no stylesheet,
 * no ids), so two viewers on one page never clash, and `destroy` leaves no trace.
 */
export interface OverlayActions {
  selectLayer(id: string): void;
  showGrid(on: boolean): void;
  fit(): void;
  reset(): void;
}

const PANEL_STYLE =
  'position:absolute;left:6px;top:6px;display:flex;gap:8px;align-items:center;flex-wrap:wrap;padding:4px 8px;' +
  'font:12px/1.4 system-ui,sans-serif;color:#e8e8e8;background:rgba(20,20,24,0.72);border-radius:4px;user-select:none;';
const READOUT_STYLE =
  'position:absolute;left:6px;bottom:6px;padding:2px 8px;font:12px/1.4 ui-monospace,monospace;color:#e8e8e8;' +
  'background:rgba(20,20,24,0.72);border-radius:4px;pointer-events:none;';
const BUTTON_STYLE = 'font:inherit;padding:0 6px;cursor:pointer;';

export class Overlay {
  private readonly panel: HTMLDivElement;
  private readonly readout: HTMLDivElement;
  private readonly layerLabel: HTMLLabelElement;
  private readonly layerSelect: HTMLSelectElement;
  private readonly level: HTMLSpanElement;
  private readonly grid: HTMLInputElement;
  private readonly cleanups: (() => void)[] = [];

  constructor(host: HTMLElement, actions: OverlayActions, showGrid: boolean) {
    const doc = host.ownerDocument;
    const el = <K extends keyof HTMLElementTagNameMap>(tag: K, style = ''): HTMLElementTagNameMap[K] => {
      const node = doc.createElement(tag);
      if (style) node.style.cssText = style;
      return node;
    };
    const listen = (target: EventTarget, type: string, fn: (event: Event) => void): void => {
      target.addEventListener(type, fn);
      this.cleanups.push(() => target.removeEventListener(type, fn));
    };

    this.panel = el('div', PANEL_STYLE);
    this.panel.dataset['role'] = 'tile-viewer-controls';

    this.layerLabel = el('label', 'display:none;gap:4px;align-items:center;');
    this.layerLabel.append('Layer ');
    this.layerSelect = el('select', 'font:inherit;max-width:12em;');
    this.layerSelect.setAttribute('aria-label', 'Layer');
    this.layerLabel.append(this.layerSelect);
    listen(this.layerSelect, 'change', () => actions.selectLayer(this.layerSelect.value));

    this.level = el('span');
    this.level.textContent = 'no octree layer';
    this.level.dataset['role'] = 'level';

    const gridLabel = el('label', 'display:flex;gap:4px;align-items:center;cursor:pointer;');
    this.grid = el('input');
    this.grid.type = 'checkbox';
    this.grid.checked = showGrid;
    gridLabel.append(this.grid, 'Show grid in napari');
    listen(this.grid, 'change', () => actions.showGrid(this.grid.checked));

    const fit = el('button', BUTTON_STYLE);
    fit.type = 'button';
    fit.textContent = 'Fit';
    fit.title = 'Zoom to the seen tiles and the view (double-click)';
    listen(fit, 'click', () => actions.fit());
    const reset = el('button', BUTTON_STYLE);
    reset.type = 'button';
    reset.textContent = 'Reset';
    reset.title = 'Show the whole level';
    listen(reset, 'click', () => actions.reset());

    this.panel.append(this.layerLabel, this.level, gridLabel, fit, reset);
    // Keep drags and wheels on the panel from panning the view underneath.
    for (const type of ['pointerdown', 'wheel', 'dblclick']) listen(this.panel, type, (event) => event.stopPropagation());

    this.readout = el('div', READOUT_STYLE);
    this.readout.dataset['role'] = 'hover';
    this.readout.style.display = 'none';
    host.append(this.panel, this.readout);
  }

  /** Canvas pixels the controls cover at the top, so a fitted view starts below them. */
  topInset(): number {
    return this.panel.offsetTop + this.panel.offsetHeight;
  }

  setLayers(ids: readonly string[], selected: string | null): void {
    const select = this.layerSelect;
    const current = [...select.options].map((option) => option.value);
    if (current.length !== ids.length || current.some((id, i) => id !== ids[i])) {
      select.replaceChildren(
        ...ids.map((id) => {
          const option = select.ownerDocument.createElement('option');
          option.value = id;
          option.textContent = id;
          return option;
        }),
      );
    }
    if (selected !== null) select.value = selected;
    this.layerLabel.style.display = ids.length > 1 ? 'flex' : 'none';
  }

  setLevel(text: string): void {
    this.level.textContent = text;
  }

  setShowGrid(on: boolean): void {
    this.grid.checked = on;
  }

  setHover(text: string | null): void {
    this.readout.style.display = text === null ? 'none' : 'block';
    if (text !== null) this.readout.textContent = text;
  }

  destroy(): void {
    for (const cleanup of this.cleanups) cleanup();
    this.cleanups.length = 0;
    this.panel.remove();
    this.readout.remove();
  }
}
