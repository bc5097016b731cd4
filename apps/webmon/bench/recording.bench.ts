/**
 * What recording costs webmon, against a baseline measured in the same run.
 *
 *   pnpm --filter webmon bench:recording     (BENCH_SECONDS=20 per run by default; about 3 minutes)
 *
 * Each run: the real simulator (CPython, napari 0.4 at 60 Hz, plus the float32 image stream through a
 * shared-memory ring, 30 Hz) launches webmon the napari way; no page is open. CPU is webmon's own process
 * (user + system, from /proc) over the measured window after a warm-up.
 * - "no recorder": `--flight-recorder-bytes 0` (nothing taps the relay); "flight recorder": the default
 *   (256 MiB in memory); "--record": the default plus a file (zstd level 1). The ratio the issue asks for
 *   is --record / flight recorder (both with webmon's defaults otherwise), and --record / no recorder.
 * - bytes on disk per minute, with the image stream (at the image size below) and without it (--image-hz 0).
 * - the flight recorder's memory: its own count (`/api/status`) against its budget every second, and
 *   webmon's RSS against the same run without a flight recorder.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PYTHON, SIMULATOR, CLI, startProcess } from '../test/helpers.js';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 20);
const WARMUP_SECONDS = Number(process.env['BENCH_WARMUP_SECONDS'] ?? 5);
const IMAGE = Number(process.env['BENCH_IMAGE'] ?? 1024);
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
const PAGE_SIZE = Number(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }).trim()) || 4096;
const dir = mkdtempSync(join(tmpdir(), 'webmon-bench-recording-'));

function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

function rssBytes(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * PAGE_SIZE;
}

/** The simulator's child that is node running webmon (pgrep -f cli.js also matches Python's helpers, whose arguments name it). */
function webmonPid(simulatorPid: number): number {
  const children = execFileSync('pgrep', ['-P', String(simulatorPid)], { encoding: 'utf8' }).trim().split('\n').map(Number);
  const pid = children.find((child) => readFileSync(`/proc/${child}/cmdline`, 'utf8').split('\0')[0] === process.execPath);
  if (pid === undefined) throw new Error('webmon process not found');
  return pid;
}

/** Image frames published so far (the rings' counters in /api/status). */
async function framesPublished(url: string): Promise<number> {
  const status = (await (await fetch(`${url}api/status`)).json()) as { rings?: Record<string, { frames?: number }> };
  return Object.values(status.rings ?? {}).reduce((sum, ring) => sum + (ring.frames ?? 0), 0);
}

interface Run {
  name: string;
  cpuPercent: number;
  /** Image frames published per second: the simulator slows down on a loaded machine, so CPU is also given per frame. */
  framesPerSecond: number;
  /** CPU ms per published image frame. */
  cpuMsPerFrame: number;
  bytesPerMinute: number | undefined;
  dropped: number | undefined;
  rssMiB: number;
  flightMaxBytes: number;
  flightBudget: number;
}

async function measure(name: string, webmonArgs: string[], imageHz: number, file?: string): Promise<Run> {
  const simulator = startProcess(PYTHON, [SIMULATOR, '--quiet', '--exit-with-client', '--image-hz', String(imageHz), '--image-size', String(IMAGE), '--', process.execPath, CLI, '--port', '0', '--log-level', 'warn', ...webmonArgs, ...(file === undefined ? [] : ['--record', file])]);
  try {
    const url = (await simulator.waitFor(/webmon: serving (http:\/\/\S+\/)/, 90_000))[1] ?? '';
    const recordingFrom = performance.now();
    const pid = webmonPid(simulator.child.pid ?? 0);
    await new Promise((resolve) => setTimeout(resolve, WARMUP_SECONDS * 1000));
    const cpuBefore = cpuSeconds(pid);
    const framesBefore = await framesPublished(url);
    const started = performance.now();
    let flightMaxBytes = 0;
    let flightBudget = 0;
    let rss = 0;
    for (let second = 0; second < SECONDS; second++) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const status = (await (await fetch(`${url}api/status`)).json()) as { flightRecorder?: { bytes: number; maxBytes: number } };
      flightMaxBytes = Math.max(flightMaxBytes, status.flightRecorder?.bytes ?? 0);
      flightBudget = status.flightRecorder?.maxBytes ?? 0;
      rss = Math.max(rss, rssBytes(pid));
    }
    const cpu = cpuSeconds(pid) - cpuBefore;
    const elapsed = (performance.now() - started) / 1000;
    const frames = (await framesPublished(url)) - framesBefore;
    const status = (await (await fetch(`${url}api/status`)).json()) as { recording?: { droppedTotal: number } };
    // Whole-run size over whole-run time: chunks reach the disk 1 MiB (uncompressed) at a time, so a
    // window's growth says little for slow topics; the closed file includes the summary and index.
    await simulator.stop();
    const recordedSeconds = (performance.now() - recordingFrom) / 1000;
    const grown = file === undefined ? undefined : statSync(file).size * (elapsed / recordedSeconds);
    return {
      name,
      cpuPercent: (cpu / elapsed) * 100,
      framesPerSecond: frames / elapsed,
      cpuMsPerFrame: frames > 0 ? (cpu * 1000) / frames : Number.NaN,
      bytesPerMinute: grown === undefined ? undefined : (grown / elapsed) * 60,
      dropped: status.recording?.droppedTotal,
      rssMiB: rss / 2 ** 20,
      flightMaxBytes,
      flightBudget,
    };
  } finally {
    await simulator.stop();
  }
}

const runs: Run[] = [];
try {
  runs.push(await measure('no recorder', ['--flight-recorder-bytes', '0'], 30));
  runs.push(await measure('flight recorder (default 256 MiB)', [], 30));
  runs.push(await measure('--record + flight recorder', [], 30, join(dir, 'with-image.mcap')));
  runs.push(await measure('--record, no flight recorder', ['--flight-recorder-bytes', '0'], 30, join(dir, 'with-image-only-file.mcap')));
  runs.push(await measure('--record, no image stream', [], 0, join(dir, 'no-image.mcap')));
  runs.push(await measure('flight recorder 64 MiB', ['--flight-recorder-bytes', '64M'], 30));
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const [none, flight, recordAll, recordOnly, noImage, flight64] = runs as [Run, Run, Run, Run, Run, Run];
const mib = (bytes: number | undefined): string => (bytes === undefined ? '–' : `${(bytes / 2 ** 20).toFixed(1)} MiB`);
console.log(`\nwebmon recording, simulator napari 0.4 at 60 Hz + ${IMAGE}×${IMAGE} float32 image at 30 Hz, ${SECONDS} s per run\n`);
console.log('| run | webmon CPU | image frames/s | CPU ms / frame | bytes on disk / min | dropped | peak RSS | flight recorder held (max) / budget |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const run of runs) {
  console.log(`| ${run.name} | ${run.cpuPercent.toFixed(1)} % | ${run.framesPerSecond.toFixed(1)} | ${run.cpuMsPerFrame.toFixed(2)} | ${mib(run.bytesPerMinute)} | ${run.dropped ?? '–'} | ${run.rssMiB.toFixed(0)} MiB | ${run.flightBudget === 0 ? 'off' : `${mib(run.flightMaxBytes)} / ${mib(run.flightBudget)}`} |`);
}
const ratio = (a: Run, b: Run): string => `${(a.cpuPercent / b.cpuPercent).toFixed(2)} (per image frame ${(a.cpuMsPerFrame / b.cpuMsPerFrame).toFixed(2)})`;
console.log(`\nCPU ratio --record / flight recorder (webmon's defaults): ${ratio(recordAll, flight)} (goal ≤ 1.15)`);
console.log(`CPU ratio --record alone / no recorder: ${ratio(recordOnly, none)}`);
console.log(`CPU ratio --record + flight recorder / no recorder: ${ratio(recordAll, none)}`);
console.log(`CPU ratio flight recorder / no recorder: ${ratio(flight, none)}`);
console.log(`bytes on disk per minute: ${mib(recordAll.bytesPerMinute)} with the image stream, ${mib(noImage.bytesPerMinute)} without`);
for (const run of [flight, flight64]) {
  console.log(`flight recorder ${mib(run.flightBudget)}: held at most ${((run.flightMaxBytes / run.flightBudget) * 100).toFixed(1)} % of its budget; RSS ${run.rssMiB.toFixed(0)} MiB vs ${none.rssMiB.toFixed(0)} MiB without (+${(run.rssMiB - none.rssMiB).toFixed(0)} MiB)`);
}
