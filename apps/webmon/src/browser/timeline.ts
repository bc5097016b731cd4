/**
 * The header timeline of a replay (protocol 1.5): play/pause, step back/forward, the speed, a position
 * slider over the recording, the cursor's wall-clock time and the replay's state. Shown only while the
 * relay client has a timeline — a live webmon's header looks as it always did.
 *
 * It shows what the server says (`client.timeline`), moving the cursor itself between messages while the
 * replay plays (one animation-frame loop, only while playing and shown, stopped by `dispose`). Controls do
 * not change the display themselves: they ask the server (`POST /api/replay`), and the timeline message
 * that follows moves everything — except the slider while it is dragged, which follows the hand.
 */
import { timelineCursor, type TimelineMessage } from '@webmon/relay/client';

/** What the timeline needs of the relay client (`createRelayClient` fits). */
export interface TimelineClient {
  readonly timeline: TimelineMessage | undefined;
  onTimeline(handler: (timeline: TimelineMessage | undefined) => void): () => void;
}

/** A control's request to the replay (the body of `POST /api/replay`). */
export type ReplayAction =
  | { action: 'play' }
  | { action: 'pause' }
  | { action: 'seek'; cursor: number }
  | { action: 'speed'; speed: number }
  | { action: 'step'; direction: 1 | -1 };

export interface TimelineOptions {
  client: TimelineClient;
  /** Sends a control's request; rejects with what to show. @default POST /api/replay on this origin */
  send?: (action: ReplayAction) => Promise<void>;
  /** Least time between two seeks while the slider is dragged (one more is sent on release). @default 250 */
  seekIntervalMs?: number;
}

export interface TimelineHandle {
  dispose(): void;
}

/** The speeds offered (all within the protocol's `TimelineLimits`). */
export const TIMELINE_SPEEDS = [0.25, 0.5, 1, 2, 4, 8] as const;

export const REPLAY_API_PATH = '/api/replay';

/** `POST /api/replay` on this origin; a refusal rejects with the server's text. */
export async function postReplayAction(action: ReplayAction): Promise<void> {
  const response = await fetch(REPLAY_API_PATH, { method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json' }, body: JSON.stringify(action) });
  if (!response.ok) throw new Error((await response.text()).trim() || `HTTP ${response.status}`);
}

const pad = (value: number, width = 2): string => String(value).padStart(width, '0');

/** `HH:MM:SS.mmm` in the browser's time zone. */
export function formatClock(ms: number): string {
  const date = new Date(ms);
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

/**
 * The buttons' icons as SVG paths in a 12 × 12 box: drawn, not font glyphs (⏮ ⏭ ⏸ are missing from many
 * system fonts and show as empty boxes).
 */
const ICONS = {
  play: 'M3 1.5v9l7.5-4.5z',
  pause: 'M2.5 1.5h2.5v9h-2.5zM7 1.5h2.5v9h-2.5z',
  back: 'M1.5 1.5h2v9h-2zM11 1.5v9l-6.5-4.5z',
  forward: 'M10.5 1.5h-2v9h2zM1 1.5v9l6.5-4.5z',
} as const;

const SVG = 'http://www.w3.org/2000/svg';

function setIcon(element: HTMLButtonElement, icon: keyof typeof ICONS): void {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 12 12');
  svg.setAttribute('width', '12');
  svg.setAttribute('height', '12');
  svg.setAttribute('aria-hidden', 'true');
  const path = document.createElementNS(SVG, 'path');
  path.setAttribute('d', ICONS[icon]);
  path.setAttribute('fill', 'currentColor');
  svg.append(path);
  element.replaceChildren(svg);
}

function button(label: string, icon: keyof typeof ICONS): HTMLButtonElement {
  const element = document.createElement('button');
  element.type = 'button';
  setIcon(element, icon);
  element.setAttribute('aria-label', label);
  element.title = label;
  return element;
}

/** Builds the timeline in `element` (emptied first) and keeps it current. */
export function createTimeline(element: HTMLElement, options: TimelineOptions): TimelineHandle {
  const { client } = options;
  const send = options.send ?? postReplayAction;
  const seekIntervalMs = options.seekIntervalMs ?? 250;

  element.replaceChildren();
  element.classList.add('timeline');
  element.setAttribute('role', 'group');
  element.setAttribute('aria-label', 'Replay');

  const back = button('Step back', 'back');
  const play = button('Play', 'play');
  const forward = button('Step forward', 'forward');
  const speed = document.createElement('select');
  speed.setAttribute('aria-label', 'Replay speed');
  speed.title = 'Replay speed';
  for (const value of TIMELINE_SPEEDS) {
    const option = document.createElement('option');
    option.value = String(value);
    option.textContent = `×${value}`;
    speed.append(option);
  }
  const position = document.createElement('input');
  position.type = 'range';
  position.min = '0';
  position.step = '1';
  position.setAttribute('aria-label', 'Replay position');
  const clock = document.createElement('output');
  clock.className = 'timeline-clock';
  clock.setAttribute('aria-label', 'Replay time');
  const state = document.createElement('output');
  state.className = 'timeline-state';
  state.setAttribute('aria-live', 'polite');
  element.append(back, play, forward, speed, position, clock, state);

  let current: TimelineMessage | undefined;
  /** The slider is in the hand (between its first `input` and its `change`): it shows where the hand is. */
  let dragging = false;
  /** Released, and the server has not answered with a timeline yet: the slider stays where it was let go. */
  let awaiting = false;
  let lastSeek = 0;
  let seekTimer: ReturnType<typeof setTimeout> | undefined;
  let frame: number | undefined;
  /** Why the last request failed, shown until the next timeline message. */
  let problem: string | undefined;

  const act = (action: ReplayAction): void => {
    send(action).then(
      () => undefined,
      (error: unknown) => {
        problem = (error as Error).message;
        awaiting = false;
        render();
      },
    );
  };

  const cursorAt = (offset: number): number => (current === undefined ? 0 : current.start + offset);

  const showCursor = (cursor: number): void => {
    clock.textContent = formatClock(cursor);
    clock.title = new Date(cursor).toString();
  };

  function render(): void {
    const timeline = current;
    element.hidden = timeline === undefined;
    if (timeline === undefined) return;
    const playing = timeline.state === 'playing';
    if (play.dataset['icon'] !== (playing ? 'pause' : 'play')) {
      setIcon(play, playing ? 'pause' : 'play');
      play.dataset['icon'] = playing ? 'pause' : 'play';
    }
    play.setAttribute('aria-label', playing ? 'Pause' : 'Play');
    play.title = playing ? 'Pause' : 'Play';
    speed.value = String(timeline.speed);
    position.max = String(Math.max(0, timeline.end - timeline.start));
    state.textContent = problem ?? timeline.state;
    state.dataset['state'] = problem === undefined ? timeline.state : 'error';
    element.dataset['state'] = timeline.state;
    if (!dragging && !awaiting) {
      const cursor = timelineCursor(timeline);
      position.value = String(cursor - timeline.start);
      showCursor(cursor);
    }
  }

  const tick = (): void => {
    frame = undefined;
    render();
    if (current?.state === 'playing' && !element.hidden) frame = requestAnimationFrame(tick);
  };

  const update = (timeline: TimelineMessage | undefined): void => {
    current = timeline;
    problem = undefined;
    awaiting = false;
    if (frame !== undefined) cancelAnimationFrame(frame);
    frame = undefined;
    tick();
  };

  const seekNow = (): void => {
    clearTimeout(seekTimer);
    seekTimer = undefined;
    lastSeek = Date.now();
    act({ action: 'seek', cursor: cursorAt(Number(position.value)) });
  };

  play.addEventListener('click', () => act({ action: current?.state === 'playing' ? 'pause' : 'play' }));
  back.addEventListener('click', () => act({ action: 'step', direction: -1 }));
  forward.addEventListener('click', () => act({ action: 'step', direction: 1 }));
  speed.addEventListener('change', () => act({ action: 'speed', speed: Number(speed.value) }));
  // While dragged: the clock follows the hand, and a seek leaves at most every `seekIntervalMs`.
  position.addEventListener('input', () => {
    dragging = true;
    showCursor(cursorAt(Number(position.value)));
    const wait = lastSeek + seekIntervalMs - Date.now();
    if (wait <= 0) seekNow();
    else seekTimer ??= setTimeout(seekNow, wait);
  });
  // Released (or changed with the keyboard): the final position, at once.
  position.addEventListener('change', () => {
    dragging = false;
    awaiting = true;
    seekNow();
  });

  const off = client.onTimeline(update);
  update(client.timeline);

  return {
    dispose() {
      off();
      clearTimeout(seekTimer);
      if (frame !== undefined) cancelAnimationFrame(frame);
      frame = undefined;
      element.replaceChildren();
      element.hidden = true;
    },
  };
}
