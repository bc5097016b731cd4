/**
 * A collapsible tree of one JSON value that is updated in place: a new value walks only the nodes that
 * are open, changes the text of leaves whose text changed, adds and removes keys, and never rebuilds
 * what is already there — so a value that changes 60 times a second costs what is on screen, and the
 * user's open and closed nodes survive every update (and a topic that is retired and comes back).
 */
import { pathKey, type PathSegment } from './selection.js';

export interface JsonTreeOptions {
  /** Called when the user clicks a number: the path from the root to it. */
  onPick?: (path: readonly PathSegment[], event: MouseEvent) => void;
  /**
   * Open/closed choices by path key (`pathKey`), kept by the caller so they outlive the tree.
   * @default a new map
   */
  expanded?: Map<string, boolean>;
  /** Levels open before the user chose. @default 1 (the root's keys are listed) */
  openDepth?: number;
  /**
   * Objects and arrays with at most this many entries are open before the user chose, down to the third
   * level (a plugin's `{ stats: { count, mean } }` shows its numbers at once; a list of 5000 tiles stays shut).
   * @default 8
   */
  openSmall?: number;
  /** Keys or items listed per object or array; the rest are counted. @default 100 */
  maxChildren?: number;
  /** Longest string shown whole. @default 200 */
  maxString?: number;
}

export interface JsonTree {
  /** Shows `value`, changing only what differs from the last one. */
  update(value: unknown): void;
  /** Removes the tree and its listeners. */
  dispose(): void;
}

type Kind = 'object' | 'array' | 'leaf';

interface Node {
  path: PathSegment[];
  key: string;
  depth: number;
  kind: Kind;
  element: HTMLElement;
  toggle: HTMLElement | undefined;
  valueText: HTMLElement;
  list: HTMLElement | undefined;
  more: HTMLElement | undefined;
  children: Map<string, Node>;
  text: string;
  value: unknown;
}

const kindOf = (value: unknown): Kind => (Array.isArray(value) ? 'array' : typeof value === 'object' && value !== null ? 'object' : 'leaf');

function leafText(value: unknown, maxString: number): string {
  if (typeof value === 'string') return JSON.stringify(value.length > maxString ? `${value.slice(0, maxString)}…` : value);
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : String(Math.round(value * 1e6) / 1e6);
  if (value === undefined) return 'undefined';
  return String(value);
}

export function createJsonTree(container: HTMLElement, options: JsonTreeOptions = {}): JsonTree {
  const expanded = options.expanded ?? new Map<string, boolean>();
  const openDepth = options.openDepth ?? 1;
  const openSmall = options.openSmall ?? 8;
  const maxChildren = options.maxChildren ?? 100;
  const maxString = options.maxString ?? 200;
  const nodes = new WeakMap<Element, Node>();

  const root = document.createElement('div');
  root.className = 'json-tree';
  root.dataset['role'] = 'tree';
  container.append(root);

  const entries = (value: unknown): number => (Array.isArray(value) ? value.length : typeof value === 'object' && value !== null ? Object.keys(value).length : 0);
  const isOpen = (node: Node): boolean => expanded.get(pathKey(node.path)) ?? (node.depth < openDepth || (node.depth < 3 && entries(node.value) <= openSmall));

  const build = (node: Node): void => {
    node.element.replaceChildren();
    node.children.clear();
    node.list = undefined;
    node.more = undefined;
    node.toggle = undefined;
    const line = node.element.appendChild(document.createElement('div'));
    line.className = 'json-line';
    if (node.kind !== 'leaf') {
      node.toggle = line.appendChild(document.createElement('span'));
      node.toggle.className = 'json-toggle';
      node.toggle.setAttribute('role', 'button');
      node.toggle.tabIndex = 0;
    } else {
      line.appendChild(document.createElement('span')).className = 'json-spacer';
    }
    if (node.depth > 0) {
      const key = line.appendChild(document.createElement('span'));
      key.className = 'json-key';
      key.textContent = `${node.key}: `;
    }
    node.valueText = line.appendChild(document.createElement('span'));
    node.valueText.className = 'json-value';
    node.text = '';
  };

  const newNode = (path: PathSegment[], key: string, depth: number, value: unknown): Node => {
    const element = document.createElement('div');
    element.className = 'json-node';
    element.dataset['path'] = pathKey(path);
    const node: Node = { path, key, depth, kind: kindOf(value), element, toggle: undefined, valueText: element, list: undefined, more: undefined, children: new Map(), text: '', value };
    nodes.set(element, node);
    build(node);
    return node;
  };

  const setText = (node: Node, text: string): void => {
    if (node.text === text) return;
    node.text = text;
    node.valueText.textContent = text;
  };

  const update = (node: Node, value: unknown): void => {
    node.value = value;
    const kind = kindOf(value);
    if (kind !== node.kind) {
      node.kind = kind;
      build(node);
    }
    if (kind === 'leaf') {
      setText(node, leafText(value, maxString));
      const numeric = typeof value === 'number' && Number.isFinite(value);
      if (node.element.dataset['numeric'] !== String(numeric)) {
        node.element.dataset['numeric'] = String(numeric);
        node.valueText.classList.toggle('json-pick', numeric);
        node.valueText.title = numeric ? 'chart this field' : '';
      }
      return;
    }
    const entries: [string, unknown][] = kind === 'array' ? [] : Object.entries(value as object);
    const size = kind === 'array' ? (value as unknown[]).length : entries.length;
    setText(node, kind === 'array' ? `[${size}]` : `{${size}}`);
    const open = isOpen(node);
    node.element.dataset['open'] = String(open);
    if (node.toggle) node.toggle.textContent = open ? '▾' : '▸';
    if (!open) {
      // Closed: its children are dropped, not kept stale; opening builds them from the newest value.
      if (node.list) {
        node.list.remove();
        node.list = undefined;
        node.more = undefined;
        node.children.clear();
      }
      return;
    }
    if (!node.list) {
      node.list = node.element.appendChild(document.createElement('div'));
      node.list.className = 'json-children';
    }
    const shown = Math.min(size, maxChildren);
    const keep = new Set<string>();
    let previous: Element | null = null;
    for (let i = 0; i < shown; i++) {
      const [key, child]: [string | number, unknown] = kind === 'array' ? [i, (value as unknown[])[i]] : (entries[i] as [string, unknown]);
      const id = String(key);
      keep.add(id);
      let childNode = node.children.get(id);
      if (!childNode) {
        childNode = newNode([...node.path, key], id, node.depth + 1, child);
        node.children.set(id, childNode);
      }
      update(childNode, child);
      // Keys keep their place; a new key goes where the value has it.
      const expected: Element | null = previous === null ? node.list.firstElementChild : previous.nextElementSibling;
      if (expected !== childNode.element) node.list.insertBefore(childNode.element, expected);
      previous = childNode.element;
    }
    for (const [id, child] of node.children) {
      if (keep.has(id)) continue;
      child.element.remove();
      node.children.delete(id);
    }
    if (size > shown) {
      if (!node.more) {
        node.more = document.createElement('div');
        node.more.className = 'json-more';
      }
      node.more.textContent = `… ${size - shown} more`;
      node.list.append(node.more);
    } else if (node.more) {
      node.more.remove();
      node.more = undefined;
    }
  };

  let top: Node | undefined;

  const onClick = (event: MouseEvent): void => {
    const target = event.target as Element | null;
    const element = target?.closest('.json-node');
    const node = element ? nodes.get(element) : undefined;
    if (!node || !target) return;
    if (node.toggle && target === node.toggle) {
      expanded.set(pathKey(node.path), !isOpen(node));
      update(node, node.value);
    } else if (target === node.valueText && node.kind === 'leaf' && typeof node.value === 'number') {
      options.onPick?.(node.path, event);
    }
  };
  const onKey = (event: KeyboardEvent): void => {
    if (event.key !== 'Enter' && event.key !== ' ') return;
    const target = event.target as Element | null;
    if (target?.classList.contains('json-toggle')) {
      event.preventDefault();
      (target as HTMLElement).click();
    }
  };
  root.addEventListener('click', onClick);
  root.addEventListener('keydown', onKey);

  return {
    update(value) {
      if (!top) {
        top = newNode([], '', 0, value);
        root.append(top.element);
      }
      update(top, value);
    },
    dispose() {
      root.removeEventListener('click', onClick);
      root.removeEventListener('keydown', onKey);
      root.remove();
    },
  };
}
