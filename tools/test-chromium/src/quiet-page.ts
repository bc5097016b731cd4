/**
 * A page playwright does not watch, for benchmarks that push bytes through a page's WebSocket.
 *
 * Why: playwright enables the DevTools `Network` domain on every page it opens, and Chromium then reports
 * each WebSocket frame to it with the frame's payload (base64 for binary frames). Playwright does not
 * offer to turn that off. At 80 MB/s of frames that is about a core's worth of work on a two-core
 * machine, split between Chromium's browser process (encoding) and the Node process that drives the
 * browser (parsing), which in a benchmark is also the process that runs the server being measured. A
 * person's browser does none of it.
 *
 * How: the page is created with raw DevTools commands in a browser context of its own that playwright
 * does not know, so playwright ignores it (it detaches from targets outside its contexts), and driven through a session of
 * our own that enables nothing but what the caller sends. That session is attached with `flatten: false`
 * (messages wrapped in `Target.sendMessageToTarget`) because playwright's `CDPSession` cannot address a
 * flattened child session.
 */
import type { Browser, CDPSession } from 'playwright-core';
import { QuietPageError } from './errors.js';

/**
 * What runs in the page: an expression, or a function called there with no arguments (its source is sent,
 * as with playwright's `evaluate`, so it may use nothing from the caller's scope).
 */
export type PageScript<T> = string | (() => T | Promise<T>);

export interface QuietPage {
  /** Evaluates `script` in the page (awaiting a promise it returns) and returns its value, JSON-cloned. */
  evaluate<T>(script: PageScript<T>): Promise<T>;
  /** Polls `script` every `pollMs` until it is truthy; rejects after `timeoutMs` with the last value seen. */
  waitFor(script: PageScript<unknown>, options?: { timeoutMs?: number; pollMs?: number }): Promise<void>;
  /** Any DevTools command on the page's own session (for example `Emulation.setCPUThrottlingRate`). */
  send<T = unknown>(method: string, params?: Record<string, unknown>): Promise<T>;
  close(): Promise<void>;
}

interface Reply {
  id: number;
  result?: unknown;
  error?: { message: string };
}

interface EvaluateResult {
  result: { value?: unknown };
  exceptionDetails?: { text: string; exception?: { description?: string } };
}

export interface QuietPageOptions {
  /** The page's size in CSS pixels (device scale 1), set before it loads (as playwright's `viewport`). */
  viewport?: { width: number; height: number };
  /**
   * A script run in every document of the page before its own scripts (as playwright's `addInitScript`):
   * to watch a page a benchmark cannot change, e.g. wrap its WebSocket's message handler.
   */
  initScript?: string;
  /**
   * How long a DevTools command (an `evaluate` included) may go unanswered before it is rejected: a page whose
   * main thread hangs, or a promise it never settles, then fails the bench or test that asked, with the
   * command's name, instead of holding it until the runner's own timeout. @default 120000
   */
  commandTimeoutMs?: number;
}

/** Opens `url` in a new page of `browser` that playwright does not instrument (see the file's comment). */
export async function openQuietPage(browser: Browser, url: string, options: QuietPageOptions = {}): Promise<QuietPage> {
  const cdp: CDPSession = await browser.newBrowserCDPSession();
  // A browser context of its own, as playwright's `browser.newPage()` gives: closing the page then closes its
  // connections (a context's idle keep-alive sockets would otherwise outlive the page and hold up a server's
  // `close()`), and pages share no cookies or cache. Playwright does not know the context, so it leaves the page alone.
  const { browserContextId } = await cdp.send('Target.createBrowserContext', {});
  // Blank first, so that the viewport is in place before the page's script first measures anything. A window
  // of its own, as playwright gives each page: a second tab in one window would hide the first (no frames,
  // timers throttled).
  const { targetId } = await cdp.send('Target.createTarget', { url: 'about:blank', newWindow: true, browserContextId });
  const { sessionId } = await cdp.send('Target.attachToTarget', { targetId, flatten: false });
  let nextId = 0;
  let closed = false;
  const waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void; method: string }>();
  cdp.on('Target.receivedMessageFromTarget', (event) => {
    if (event.sessionId !== sessionId) return;
    const reply = JSON.parse(event.message) as Partial<Reply>;
    if (reply.id === undefined) return;
    const pending = waiting.get(reply.id);
    if (pending === undefined) return;
    waiting.delete(reply.id);
    if (reply.error) pending.reject(new QuietPageError(`${pending.method}: ${reply.error.message}`));
    else pending.resolve(reply.result);
  });
  cdp.on('Target.detachedFromTarget', (event) => {
    if (event.sessionId !== sessionId) return;
    for (const pending of waiting.values()) pending.reject(new QuietPageError(`${pending.method}: the page went away`));
    waiting.clear();
  });

  const dispose = async (): Promise<void> => {
    await cdp.send('Target.closeTarget', { targetId }).catch(() => undefined);
    await cdp.send('Target.disposeBrowserContext', { browserContextId }).catch(() => undefined);
    await cdp.detach().catch(() => undefined);
  };

  const commandTimeoutMs = options.commandTimeoutMs ?? 120_000;
  const send = <T>(method: string, params: Record<string, unknown> = {}): Promise<T> => {
    if (closed) return Promise.reject(new QuietPageError(`${method}: the page is closed`));
    const id = ++nextId;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (waiting.delete(id)) reject(new QuietPageError(`${method}: no answer in ${commandTimeoutMs} ms`));
      }, commandTimeoutMs);
      const settle = <V>(finish: (value: V) => void) => (value: V) => {
        clearTimeout(timer);
        finish(value);
      };
      waiting.set(id, { resolve: settle(resolve as (value: unknown) => void), reject: settle(reject), method });
      cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method, params }) }).catch((error: Error) => {
        if (waiting.delete(id)) settle(reject)(new QuietPageError(`${method}: ${error.message}`));
      });
    });
  };

  const evaluate = async <T>(script: PageScript<T>): Promise<T> => {
    const expression = typeof script === 'string' ? script : `(${script.toString()})()`;
    const { result, exceptionDetails } = await send<EvaluateResult>('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true });
    if (exceptionDetails) throw new QuietPageError(`evaluate: ${exceptionDetails.exception?.description ?? exceptionDetails.text}`);
    return result.value as T;
  };

  try {
    if (options.viewport) await send('Emulation.setDeviceMetricsOverride', { ...options.viewport, deviceScaleFactor: 1, mobile: false });
    // Focused, whichever window the browser thinks is in front (as playwright's pages are).
    await send('Emulation.setFocusEmulationEnabled', { enabled: true });
    if (options.initScript !== undefined) {
      // The Page domain must be on for the script to be registered (its events are few: a page's loads).
      await send('Page.enable');
      await send('Page.addScriptToEvaluateOnNewDocument', { source: options.initScript });
    }
    await send('Page.navigate', { url });
  } catch (error) {
    await dispose();
    throw error;
  }

  return {
    evaluate,
    send,
    async waitFor(script, { timeoutMs = 30_000, pollMs = 100 } = {}) {
      const deadline = performance.now() + timeoutMs;
      let last: { value?: unknown; error?: string } = {};
      for (;;) {
        try {
          last = { value: await evaluate<unknown>(script) };
          if (last.value) return;
        } catch (error) {
          // A page still loading has no document to evaluate in yet: keep polling.
          last = { error: (error as Error).message };
        }
        if (performance.now() > deadline) throw new QuietPageError(`waited ${timeoutMs} ms for \`${typeof script === 'string' ? script : 'a function'}\` (last: ${last.error ?? JSON.stringify(last.value)})`);
        await new Promise((resolve) => setTimeout(resolve, pollMs));
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await dispose();
    },
  };
}

export interface BenchPageOptions extends QuietPageOptions {
  /**
   * Use a page of playwright's own instead (its network instrumentation on): to compare with figures
   * measured that way, or to see what the instrumentation costs. @default false
   */
  watched?: boolean;
}

/**
 * A page for a benchmark: a quiet page, or with `watched` one of playwright's behind the same interface.
 * Either way its `send` reaches the page's DevTools session.
 */
export async function openBenchPage(browser: Browser, url: string, options: BenchPageOptions = {}): Promise<QuietPage> {
  if (!options.watched) return openQuietPage(browser, url, options);
  const page = await browser.newPage(options.viewport ? { viewport: options.viewport } : {});
  if (options.initScript !== undefined) await page.addInitScript(options.initScript);
  await page.goto(url);
  const session = await page.context().newCDPSession(page);
  return {
    evaluate: <T>(script: PageScript<T>) => page.evaluate(script) as Promise<T>,
    async waitFor(script, { timeoutMs = 30_000, pollMs = 100 } = {}) {
      await page.waitForFunction(script, undefined, { timeout: timeoutMs, polling: pollMs });
    },
    send: (method, params = {}) => session.send(method as never, params as never) as never,
    close: () => page.close(),
  };
}
