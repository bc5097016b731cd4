/**
 * A flood of Python messages (100,000/s offered) through the webmon module, against napari's own
 * send_message path (a direct put on the manager's queue proxy) in the same run.
 *
 *   pnpm --filter webmon bench:flood      (FLOOD_SECONDS=5, FLOOD_RATE=100000, FLOOD_PYTHON=python3)
 *
 * A control run (`list.append` in the same loop) shows what the machine and interpreter cost alone.
 * Prints, per run: send_message call time (p50/p99/p99.9/max), calls over 1 ms, the rate achieved, and
 * for webmon how many messages reached webmon (its source counter), a page (a relay client subscribed
 * to the topic) and how many the module dropped (`<prefix>.data.webmon_dropped`).
 */
import { createRelayClient, type WebSocketConstructor } from '@webmon/relay/client';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { CLI, getJson, startProcess } from '../test/helpers.js';

const SCRIPT = fileURLToPath(new URL('./python/flood.py', import.meta.url));
const python = process.env['FLOOD_PYTHON'] ?? process.env['WEBMON_PYTHON'] ?? 'python3';

interface FloodResult {
  run: string;
  offered_per_s: number;
  sent: number;
  achieved_per_s: number;
  call_p50_us: number;
  call_p99_us: number;
  call_p999_us: number;
  call_max_us: number;
  over_1ms: number;
  dropped: number;
}

const proc = startProcess(process.execPath, [CLI, 'run', '--port', '0', '-q', ...(process.env['FLOOD_WEBMON_ARGS'] ?? '').split(' ').filter(Boolean), '--', python, SCRIPT], { env: { ...process.env, NAPARI_MON_CLIENT: '' } });
try {
  const url = (await proc.waitFor(/webmon: serving (http:\/\/\S+)/))[1]!;
  await proc.waitFor(/topics flood\.\*/);
  const client = createRelayClient({ url: `${url.replace(/^http/, 'ws')}ws`, WebSocket: WebSocket as unknown as WebSocketConstructor });
  let page = 0;
  client.subscribe('flood.message.tick', (event) => {
    if (!event.replay) page++;
  });
  const control = JSON.parse((await proc.waitFor(/result (\{"[^\n]*"run": "control"[^\n]*\})/, 600_000))[1]!) as FloodResult;
  const webmonRun = JSON.parse((await proc.waitFor(/result (\{"[^\n]*"run": "webmon"[^\n]*\})/, 600_000))[1]!) as FloodResult;
  await proc.waitFor(/^drained$/m, 120_000);
  const status = (await getJson(`${url}api/status`)) as { sources: { prefix: string; counters: { otherMessages: number } }[] };
  const reached = status.sources.find((source) => source.prefix === 'flood')?.counters.otherMessages ?? 0;
  client.close();
  proc.child.stdin?.write('\n');
  const napariRun = JSON.parse((await proc.waitFor(/result (\{"[^\n]*"run": "napari"[^\n]*\})/, 600_000))[1]!) as FloodResult;
  await proc.exited(60_000);

  const row = (r: FloodResult, extra: string): string =>
    `| ${r.run} | ${r.offered_per_s} | ${r.achieved_per_s} | ${r.call_p50_us.toFixed(1)} / ${r.call_p99_us.toFixed(1)} / ${r.call_p999_us.toFixed(1)} / ${r.call_max_us.toFixed(0)} µs | ${r.over_1ms} | ${extra} |`;
  console.log(`python: ${python}; ${webmonRun.sent} messages per run`);
  console.log('| run | offered/s | achieved/s | call p50 / p99 / p99.9 / max | calls > 1 ms | delivered |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  console.log(row(webmonRun, `webmon ${reached}, page ${page}, dropped ${webmonRun.dropped} (${((100 * webmonRun.dropped) / webmonRun.sent).toFixed(1)} %)`));
  console.log(row(napariRun, 'not read (put cost only)'));
  console.log(row(control, '(list.append: the loop and machine alone)'));
  console.log(`ratio napari/webmon: p99 ${(napariRun.call_p99_us / webmonRun.call_p99_us).toFixed(1)}×, max ${(napariRun.call_max_us / webmonRun.call_max_us).toFixed(1)}×, achieved rate ${(webmonRun.achieved_per_s / napariRun.achieved_per_s).toFixed(2)}× in webmon's favour`);
  if (webmonRun.sent !== reached + webmonRun.dropped) console.log(`note: sent ${webmonRun.sent} ≠ reached ${reached} + dropped ${webmonRun.dropped}`);
} finally {
  await proc.stop();
}
