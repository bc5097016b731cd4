/**
 * The charts panel: charted fields grouped into charts (several fields may share one), each chart a
 * `@webmon/time-series` widget. The panel owns the choice (which fields, which chart) and reports every
 * change so the page can write it into the URL; values come in through `push`.
 */
import { createTimeSeriesChart, type TimeSeriesChart } from '@webmon/time-series';
import { fieldKey, fieldLabel, valueAt, type FieldRef } from './selection.js';

export interface ChartsPanelOptions {
  /** Time shown by each chart. @default 60_000 */
  windowMs?: number;
  /** Called after every change of the choice (a chart or field added or removed). */
  onChange?: (charts: FieldRef[][]) => void;
}

export interface ChartsPanel {
  /** The element with the charts and the "click adds to" choice. */
  readonly element: HTMLElement;
  /** Charts a field: into the chart the user chose as target (`'new'` or a chart's index), or a new one. */
  add(field: FieldRef, into?: number | 'new'): void;
  /** Replaces every chart (e.g. from the URL). */
  set(charts: readonly (readonly FieldRef[])[]): void;
  /** Every chart's fields, in order. */
  charts(): FieldRef[][];
  /** Whether any chart shows a field of `topic` (so the page can skip the lookup). */
  wants(topic: string): boolean;
  /** A value of `topic` arrived: each charted field of it that holds a number gets a point. */
  push(topic: string, value: unknown, timeMs: number): void;
  dispose(): void;
}

interface Chart {
  fields: FieldRef[];
  element: HTMLElement;
  legend: HTMLElement;
  widget: TimeSeriesChart;
}

export function createChartsPanel(options: ChartsPanelOptions = {}): ChartsPanel {
  const windowMs = options.windowMs ?? 60_000;
  const element = document.createElement('section');
  element.className = 'wx-charts';
  element.dataset['role'] = 'charts';
  const bar = element.appendChild(document.createElement('div'));
  bar.className = 'wx-charts-bar';
  const hint = bar.appendChild(document.createElement('span'));
  hint.textContent = 'Click a number to chart it; it goes to';
  const target = bar.appendChild(document.createElement('select'));
  target.dataset['role'] = 'chart-target';
  target.title = 'where a clicked field is charted (shift-click: the last chart)';
  const list = element.appendChild(document.createElement('div'));
  list.className = 'wx-chart-list';

  const charts: Chart[] = [];
  /** Charted fields by topic, for the hot path (`push` runs per message). */
  let byTopic = new Map<string, { field: FieldRef; key: string; chart: Chart }[]>();

  const reindex = (): void => {
    byTopic = new Map();
    for (const chart of charts) {
      for (const field of chart.fields) {
        const entries = byTopic.get(field.topic) ?? [];
        entries.push({ field, key: fieldKey(field), chart });
        byTopic.set(field.topic, entries);
      }
    }
  };

  const refreshTarget = (): void => {
    const chosen = target.value;
    target.replaceChildren(new Option('a new chart', 'new'), ...charts.map((_chart, i) => new Option(`chart ${i + 1}`, String(i))));
    target.value = [...target.options].some((option) => option.value === chosen) ? chosen : 'new';
    element.dataset['charts'] = String(charts.length);
  };

  const changed = (): void => {
    reindex();
    refreshTarget();
    charts.forEach((chart, i) => {
      chart.element.dataset['chart'] = String(i);
      (chart.element.querySelector('.wx-chart-title') as HTMLElement).textContent = `chart ${i + 1}`;
    });
    options.onChange?.(charts.map((chart) => [...chart.fields]));
  };

  const drawLegend = (chart: Chart): void => {
    chart.legend.replaceChildren(
      ...chart.fields.map((field) => {
        const item = document.createElement('span');
        item.className = 'wx-chart-field';
        item.dataset['field'] = fieldKey(field);
        item.append(fieldLabel(field));
        const remove = item.appendChild(document.createElement('button'));
        remove.type = 'button';
        remove.textContent = '×';
        remove.title = `stop charting ${fieldLabel(field)}`;
        remove.addEventListener('click', () => removeField(chart, field));
        return item;
      }),
    );
  };

  const newChart = (): Chart => {
    const card = list.appendChild(document.createElement('article'));
    card.className = 'wx-chart';
    const head = card.appendChild(document.createElement('header'));
    head.appendChild(document.createElement('strong')).className = 'wx-chart-title';
    const legend = head.appendChild(document.createElement('span'));
    legend.className = 'wx-chart-legend';
    const close = head.appendChild(document.createElement('button'));
    close.type = 'button';
    close.textContent = 'close';
    close.dataset['role'] = 'close-chart';
    const plot = card.appendChild(document.createElement('div'));
    plot.className = 'wx-chart-plot';
    const widget = createTimeSeriesChart(plot, {
      windowMs,
      height: 200,
      // Points in the window, on the card: what a test (or a curious user's devtools) can read.
      onFrame: (info) => {
        const points = String(info.points);
        if (card.dataset['points'] !== points) card.dataset['points'] = points;
      },
    });
    const chart: Chart = { fields: [], element: card, legend, widget };
    close.addEventListener('click', () => removeChart(chart));
    charts.push(chart);
    return chart;
  };

  const addTo = (chart: Chart, field: FieldRef): void => {
    const key = fieldKey(field);
    if (chart.fields.some((other) => fieldKey(other) === key)) return;
    chart.fields.push(field);
    chart.widget.addSeries({ id: key, label: fieldLabel(field) });
    drawLegend(chart);
  };

  const removeChart = (chart: Chart): void => {
    const at = charts.indexOf(chart);
    if (at < 0) return;
    charts.splice(at, 1);
    chart.widget.destroy();
    chart.element.remove();
    changed();
  };

  const removeField = (chart: Chart, field: FieldRef): void => {
    const key = fieldKey(field);
    chart.fields = chart.fields.filter((other) => fieldKey(other) !== key);
    if (chart.fields.length === 0) return removeChart(chart);
    chart.widget.removeSeries(key);
    drawLegend(chart);
    changed();
  };

  refreshTarget();

  return {
    element,
    add(field, into) {
      const choice = into ?? (target.value === 'new' ? 'new' : Number(target.value));
      const chart = choice === 'new' ? newChart() : (charts[choice] ?? newChart());
      addTo(chart, field);
      changed();
    },
    set(wanted) {
      for (const chart of charts.splice(0)) {
        chart.widget.destroy();
        chart.element.remove();
      }
      for (const fields of wanted) {
        if (fields.length === 0) continue;
        const chart = newChart();
        for (const field of fields) addTo(chart, field);
      }
      changed();
    },
    charts: () => charts.map((chart) => [...chart.fields]),
    wants: (topic) => byTopic.has(topic),
    push(topic, value, timeMs) {
      const entries = byTopic.get(topic);
      if (!entries) return;
      for (const { field, key, chart } of entries) {
        const number = valueAt(value, field.path);
        if (number !== undefined) chart.widget.push(key, timeMs, number);
      }
    },
    dispose() {
      for (const chart of charts.splice(0)) chart.widget.destroy();
      element.remove();
    },
  };
}
