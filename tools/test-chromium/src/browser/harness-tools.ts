/**
 * Browser side of the workspace's Chromium tests (bundled into a page by `bundleBrowserEntry`, never run in
 * Node): what several packages' test harnesses need alike.
 */

export interface AnimationFrameTracker {
  /** Animation frames the page's code requested and that have not run or been cancelled yet. */
  outstanding(): number;
  /** Resolves after `count` real animation frames (requested past the tracker, so not counted). */
  frames(count?: number): Promise<number>;
}

/**
 * Wraps `requestAnimationFrame`/`cancelAnimationFrame` (the browser's API, not the code under test) to count
 * outstanding frames, so a test can see that an idle, paused or disposed widget keeps none.
 */
export function trackAnimationFrames(): AnimationFrameTracker {
  const nativeRequest = window.requestAnimationFrame.bind(window);
  const nativeCancel = window.cancelAnimationFrame.bind(window);
  const outstanding = new Set<number>();
  window.requestAnimationFrame = (callback: FrameRequestCallback): number => {
    const handle = nativeRequest((time) => {
      outstanding.delete(handle);
      callback(time);
    });
    outstanding.add(handle);
    return handle;
  };
  window.cancelAnimationFrame = (handle: number): void => {
    outstanding.delete(handle);
    nativeCancel(handle);
  };
  return {
    outstanding: () => outstanding.size,
    frames(count = 1) {
      return new Promise((resolve) => {
        let left = count;
        const step = (time: number): void => {
          left -= 1;
          if (left <= 0) resolve(time);
          else nativeRequest(step);
        };
        nativeRequest(step);
      });
    },
  };
}

/** An error thrown in the page, as plain data the test can compare (name, typed `code`, message). */
export interface ErrorInfo {
  name: string;
  code: string | undefined;
  message: string;
}

export function describeError(error: unknown): ErrorInfo {
  const e = error as { name?: string; code?: string; message?: string };
  return { name: String(e.name), code: e.code, message: String(e.message) };
}
