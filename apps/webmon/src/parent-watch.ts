/**
 * Notices that the process that launched webmon is gone. napari launches webmon as a client; when napari
 * dies hard (SIGKILL, a crash in its Qt or OpenGL code) nothing tells webmon: the manager's server
 * process, a child of napari, outlives it and keeps answering. What does change is webmon's parent: the
 * kernel re-parents an orphan to init or the nearest subreaper. Where that does not happen (Windows
 * keeps the old parent id), the parent id no longer naming a live process says the same.
 */

export interface ParentWatchOptions {
  /** How often to look. @default 500 */
  intervalMs?: number;
}

/**
 * Calls `onGone` once, with a sentence saying why, when the parent `parent` (recorded at start, before
 * anything could have died) is gone. Returns a function that stops watching. The timer is unref'd: it
 * never keeps webmon alive.
 */
export function watchParent(parent: number, onGone: (why: string) => void, options: ParentWatchOptions = {}): () => void {
  const check = (): string | undefined => {
    const now = process.ppid;
    if (now !== parent) return `webmon's launcher (pid ${parent}) is gone: webmon's parent is now pid ${now}`;
    if (!isAlive(parent)) return `webmon's launcher (pid ${parent}) is gone`;
    return undefined;
  };
  const timer = setInterval(() => {
    const why = check();
    if (why === undefined) return;
    clearInterval(timer);
    onGone(why);
  }, options.intervalMs ?? 500);
  timer.unref();
  return () => clearInterval(timer);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, it is just not ours to signal.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
