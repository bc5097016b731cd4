/**
 * What recording costs webmon, against a baseline measured in the same run.
 *
 *   pnpm --filter webmon bench:recording     (BENCH_SECONDS=20 per run, BENCH_ROUNDS=3 of the runs the ratios use; about 10 minutes)
 *   BENCH_RECORDING_SOAK_S=600 pnpm --filter webmon bench:recording     (the flight recorder's memory over 10 minutes, beside a webmon without one)
 *   BENCH_WEBMON_CLI=/other/checkout/apps/webmon/dist/cli.js …          (the same runs against another build)
 *   BENCH_BASELINE_CLI=/other/checkout/apps/webmon/dist/cli.js …        (A/B instead: no recorder, flight recorder and --record,
 *                                                                         each on this build and on that one, interleaved)
 *
 * Each run: the real simulator (CPython, napari 0.4 at 60 Hz, plus the float32 image stream through a
 * shared-memory ring, 30 Hz) launches webmon the napari way; no page is open. CPU is webmon's own process
 * (all its threads, the writer threads included: user + system, from /proc) over the measured window after
 * a warm-up.
 * - "no recorder": `--flight-recorder-bytes 0` (nothing taps the relay); "flight recorder": the default
 *   (256 MiB in memory); "--record": the default plus a file (zstd level 1). The ratio the issue asks for
 *   is --record / flight recorder (both with webmon's defaults otherwise), and --record / no recorder.
 * - bytes on disk per minute, with the image stream (at the image size below) and without it (--image-hz 0);
 *   the RawImage messages written per second (`--record-raw-image-hz`, default 5; BENCH_RAW_IMAGE_HZ sets it
 *   for every --record run, e.g. 1000 to measure a RawImage of every frame).
 * - frames recorded and dropped with the image stream at 60 Hz (the file's own statistics record).
 * - a save of the last 60 s (`POST /api/recording`) while webmon serves: HTTP round trips to webmon every
 *   10 ms, p99 without a save and during one — what a page's requests (and so its frames) wait for when
 *   the event loop is busy.
 * - the flight recorder's memory: its own count (`/api/status`) against its budget every second, and
 *   webmon's RSS against the same run without a flight recorder.
 * - soak (BENCH_RECORDING_SOAK_S > 0, that run only): the demo with the default flight recorder for that
 *   long; every 30 s webmon's RSS, external memory (array buffers outside the JS heap: the frames) and the
 *   bytes the recorder holds against its budget, then the maxima.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { McapIndexedReader } from '@mcap/core';
import { PYTHON, SIMULATOR, CLI as BUILT_CLI, startProcess } from '../test/helpers.js';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 20);
const SOAK_SECONDS = Number(process.env['BENCH_RECORDING_SOAK_S'] ?? 0);
const CLI = process.env['BENCH_WEBMON_CLI'] ?? BUILT_CLI;
const WARMUP_SECONDS = Number(process.env['BENCH_WARMUP_SECONDS'] ?? 5);
const IMAGE = Number(process.env['BENCH_IMAGE'] ?? 1024);
const RAW_IMAGE_HZ = process.env['BENCH_RAW_IMAGE_HZ'];
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
const PAGE_SIZE = Number(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }).trim()) || 4096;
const dir = mkdtempSync(join(tmpdir(), 'webmon-bench-recording-'));

/** A process's CPU seconds so far, user and system (kernel) time. */
function cpuTimes(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) / CLOCK_TICKS, system: Number(fields[12]) / CLOCK_TICKS };
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
  /** CPU ms per published image frame, and its system (kernel) part. */
  cpuMsPerFrame: number;
  systemMsPerFrame: number;
  bytesPerMinute: number | undefined;
  dropped: number | undefined;
  /** Image frames in the file (its statistics record) and image frames dropped by the recorder, whole run. */
  imageFramesRecorded: number | undefined;
  imageFramesDropped: number | undefined;
  /** RawImage messages in the file per second recorded (`--record-raw-image-hz`, default 5: the binary channel keeps every frame). */
  rawImagesPerSecond: number | undefined;
  rssMiB: number;
  flightMaxBytes: number;
  flightBudget: number;
  save: SaveProbe | undefined;
}

interface SaveProbe {
  /** Round trips to webmon (ms), p99, with no save running and while one runs. */
  quietP99: number;
  duringP99: number;
  duringMax: number;
  saveMs: number;
  saveBytes: number;
}

interface Status {
  flightRecorder?: { bytes: number; maxBytes: number; evicted: number; memoryTouched: number };
  recording?: { droppedTotal: number; dropped: Record<string, number> };
  memory?: { rss: number; external: number; arrayBuffers: number; heapUsed: number };
}

const IMAGE_TOPIC = 'napari.image';
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const status = async (url: string): Promise<Status> => (await (await fetch(`${url}api/status`)).json()) as Status;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** Round trips to webmon every 10 ms (a tiny answer: what is measured is the wait for the event loop) while `action` runs. */
async function roundTrips(url: string, action: () => Promise<void>): Promise<number[]> {
  const times: number[] = [];
  let done = false;
  const probing = (async () => {
    while (!done) {
      const started = performance.now();
      await (await fetch(`${url}favicon.ico`)).arrayBuffer();
      times.push(performance.now() - started);
      await sleep(10);
    }
  })();
  await action();
  done = true;
  await probing;
  return times;
}

async function probeSave(url: string): Promise<SaveProbe> {
  const quiet = await roundTrips(url, () => sleep(3000));
  let saveMs = 0;
  let saveBytes = 0;
  const during = await roundTrips(url, async () => {
    const started = performance.now();
    const response = await fetch(`${url}api/recording?seconds=60`, { method: 'POST', headers: { origin: url.replace(/\/$/, '') } });
    if (response.status !== 200) throw new Error(`save answered ${response.status}: ${await response.text()}`);
    // Counted as it streams in: gathering hundreds of MiB here would stall this process's own round trips.
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) saveBytes += chunk.byteLength;
    saveMs = performance.now() - started;
  });
  return { quietP99: percentile(quiet, 99), duringP99: percentile(during, 99), duringMax: Math.max(...during), saveMs, saveBytes };
}

/** Messages per topic from a closed file's statistics record (no message is read). */
async function fileCounts(path: string): Promise<Map<string, number>> {
  // Read where the reader asks (the footer, the summary): with every frame stored a 20 s file passes 2 GiB.
  const handle = await open(path, 'r');
  const size = (await handle.stat()).size;
  const readable = {
    size: async () => BigInt(size),
    read: async (offset: bigint, length: bigint) => {
      const buffer = new Uint8Array(Number(length));
      await handle.read(buffer, 0, buffer.byteLength, Number(offset));
      return buffer;
    },
  };
  const reader = await McapIndexedReader.Initialize({ readable }).finally(() => handle.close());
  const counts = new Map<string, number>();
  for (const [id, count] of reader.statistics?.channelMessageCounts ?? []) {
    const topic = reader.channelsById.get(id)?.topic ?? '?';
    counts.set(topic, (counts.get(topic) ?? 0) + Number(count));
  }
  return counts;
}

function startDemo(webmonArgs: string[], imageHz: number, file?: string, cli = CLI) {
  return startProcess(PYTHON, [SIMULATOR, '--quiet', '--exit-with-client', '--image-hz', String(imageHz), '--image-size', String(IMAGE), '--', process.execPath, cli, '--port', '0', '--log-level', 'warn', ...webmonArgs, ...(file === undefined ? [] : ['--record', file, ...(RAW_IMAGE_HZ === undefined ? [] : ['--record-raw-image-hz', RAW_IMAGE_HZ])])]);
}

async function measure(name: string, webmonArgs: string[], imageHz: number, options: { file?: string; save?: boolean; cli?: string } = {}): Promise<Run> {
  const { file } = options;
  const simulator = startDemo(webmonArgs, imageHz, file, options.cli);
  try {
    const url = (await simulator.waitFor(/webmon: serving (http:\/\/\S+\/)/, 90_000))[1] ?? '';
    const recordingFrom = performance.now();
    const pid = webmonPid(simulator.child.pid ?? 0);
    await sleep(WARMUP_SECONDS * 1000);
    const before = cpuTimes(pid);
    const framesBefore = await framesPublished(url);
    const started = performance.now();
    let flightMaxBytes = 0;
    let flightBudget = 0;
    let rss = 0;
    for (let second = 0; second < SECONDS; second++) {
      await sleep(1000);
      const now = await status(url);
      flightMaxBytes = Math.max(flightMaxBytes, now.flightRecorder?.bytes ?? 0);
      flightBudget = now.flightRecorder?.maxBytes ?? 0;
      rss = Math.max(rss, rssBytes(pid));
    }
    const after = cpuTimes(pid);
    const cpu = after.user + after.system - (before.user + before.system);
    const system = after.system - before.system;
    const elapsed = (performance.now() - started) / 1000;
    const frames = (await framesPublished(url)) - framesBefore;
    // After the CPU window: a save's own cost is not in the ratios.
    const save = options.save === true ? await probeSave(url) : undefined;
    const last = await status(url);
    // Whole-run size over whole-run time: chunks reach the disk 1 MiB (uncompressed) at a time, so a
    // window's growth says little for slow topics; the closed file includes the summary and index.
    await simulator.stop();
    const recordedSeconds = (performance.now() - recordingFrom) / 1000;
    const grown = file === undefined ? undefined : statSync(file).size;
    const counts = file === undefined ? undefined : await fileCounts(file);
    // Gone before the next run: a run writing GiBs leaves them in the page cache, and the kernel's
    // reclaim of them would be charged to the next run's writes.
    if (file !== undefined) rmSync(file, { force: true });
    return {
      name,
      cpuPercent: (cpu / elapsed) * 100,
      framesPerSecond: frames / elapsed,
      cpuMsPerFrame: frames > 0 ? (cpu * 1000) / frames : Number.NaN,
      systemMsPerFrame: frames > 0 ? (system * 1000) / frames : Number.NaN,
      bytesPerMinute: grown === undefined ? undefined : (grown / recordedSeconds) * 60,
      dropped: last.recording?.droppedTotal,
      imageFramesRecorded: counts === undefined ? undefined : counts.get(IMAGE_TOPIC) ?? 0,
      imageFramesDropped: last.recording?.dropped[IMAGE_TOPIC] ?? (file === undefined ? undefined : 0),
      rawImagesPerSecond: counts === undefined ? undefined : (counts.get(`${IMAGE_TOPIC}/image`) ?? 0) / recordedSeconds,
      rssMiB: rss / 2 ** 20,
      flightMaxBytes,
      flightBudget,
      save,
    };
  } finally {
    await simulator.stop();
  }
}

/** The round whose CPU per image frame is the median (its other figures with it), named with every round's figure. */
function medianRun(rounds: Run[]): Run {
  const sorted = [...rounds].sort((a, b) => a.cpuMsPerFrame - b.cpuMsPerFrame);
  const median = sorted[Math.floor((sorted.length - 1) / 2)] as Run;
  const save = rounds.find((run) => run.save !== undefined)?.save;
  return { ...median, save, name: `${median.name} (median of ${rounds.map((run) => run.cpuMsPerFrame.toFixed(2)).join(', ')})` };
}

const mib = (bytes: number | undefined): string => (bytes === undefined ? '–' : `${(bytes / 2 ** 20).toFixed(1)} MiB`);

/**
 * The demo with the default flight recorder for SOAK_SECONDS, and beside it the same demo without one
 * (`--flight-recorder-bytes 0`), started together: every 30 s each webmon's RSS and external memory and the
 * bytes the recorder holds against its budget; then the maxima, and what the recorder adds (with − without)
 * against its budget.
 */
async function soak(): Promise<void> {
  const withRecorder = startDemo([], 30);
  const without = startDemo(['--flight-recorder-bytes', '0'], 30);
  try {
    const urlOf = async (demo: ReturnType<typeof startDemo>): Promise<string> => (await demo.waitFor(/webmon: serving (http:\/\/\S+\/)/, 90_000))[1] ?? '';
    const [url, baseUrl] = await Promise.all([urlOf(withRecorder), urlOf(without)]);
    const pid = webmonPid(withRecorder.child.pid ?? 0);
    const basePid = webmonPid(without.child.pid ?? 0);
    const started = performance.now();
    const max = { rss: 0, external: 0, held: 0, baseRss: 0, baseExternal: 0, rssAdded: 0, externalAdded: 0 };
    let budget = 0;
    let lastPrint = -Infinity;
    /** What the recorder adds (with − without) at each sample after the first minute: RSS, external. */
    const added = { rss: [] as number[], external: [] as number[] };
    console.log(`\nflight recorder soak: the demo (napari 0.4 at 60 Hz + ${IMAGE}² float32 at 30 Hz) for ${SOAK_SECONDS} s, with the default flight recorder and, beside it, without one\n`);
    console.log('| s | RSS with / without | external with / without | held by the recorder / budget | its memory touched | evicted |');
    console.log('| ---: | ---: | ---: | ---: | ---: | ---: |');
    for (;;) {
      const seconds = (performance.now() - started) / 1000;
      const [now, base] = await Promise.all([status(url), status(baseUrl)]);
      const rss = rssBytes(pid);
      const baseRss = rssBytes(basePid);
      const external = now.memory?.external ?? 0;
      const baseExternal = base.memory?.external ?? 0;
      const held = now.flightRecorder?.bytes ?? 0;
      budget = now.flightRecorder?.maxBytes ?? 0;
      max.rss = Math.max(max.rss, rss);
      max.baseRss = Math.max(max.baseRss, baseRss);
      max.external = Math.max(max.external, external);
      max.baseExternal = Math.max(max.baseExternal, baseExternal);
      max.held = Math.max(max.held, held);
      // After the first minute (both warmed up, the recorder's window full): what it adds at the same moment.
      if (seconds >= 60) {
        max.rssAdded = Math.max(max.rssAdded, rss - baseRss);
        max.externalAdded = Math.max(max.externalAdded, external - baseExternal);
        added.rss.push(rss - baseRss);
        added.external.push(external - baseExternal);
      }
      const end = seconds >= SOAK_SECONDS;
      if (seconds - lastPrint >= 30 || end) {
        lastPrint = seconds;
        console.log(`| ${seconds.toFixed(0)} | ${mib(rss)} / ${mib(baseRss)} | ${mib(external)} / ${mib(baseExternal)} | ${mib(held)} / ${mib(budget)} (${((held / budget) * 100).toFixed(1)} %) | ${mib(now.flightRecorder?.memoryTouched)} | ${now.flightRecorder?.evicted ?? '–'} |`);
      }
      if (end) break;
      await sleep(1000);
    }
    const share = (bytes: number): string => `${((bytes / budget) * 100).toFixed(0)} % of the budget`;
    console.log(`\nmaxima: RSS ${mib(max.rss)} (without a recorder ${mib(max.baseRss)}), external ${mib(max.external)} (without ${mib(max.baseExternal)}), ` +
      `held ${mib(max.held)} of ${mib(budget)} (${((max.held / budget) * 100).toFixed(1)} %; goal within ±10 %)`);
    console.log(`what the flight recorder adds, with − without at the same moment, max after the first minute: RSS ${mib(max.rssAdded)} (${share(max.rssAdded)}), ` +
      `external ${mib(max.externalAdded)} (${share(max.externalAdded)})`);
    // Each process's garbage comes and goes on its own schedule (4 MiB frames freed by its collector), so one
    // sample's difference swings by tens of MiB either way: the median and the maxima's difference say more.
    const quantile = (values: number[], q: number): number => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(q * values.length))] ?? 0;
    console.log(`  median of those differences: RSS ${mib(quantile(added.rss, 0.5))} (${share(quantile(added.rss, 0.5))}), external ${mib(quantile(added.external, 0.5))} (${share(quantile(added.external, 0.5))}); ` +
      `p90 RSS ${mib(quantile(added.rss, 0.9))} (${share(quantile(added.rss, 0.9))}); difference of the maxima: RSS ${mib(max.rss - max.baseRss)} (${share(max.rss - max.baseRss)})`);
  } finally {
    await Promise.all([withRecorder.stop(), without.stop()]);
  }
}

if (SOAK_SECONDS > 0) {
  await soak();
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}

/**
 * The runs the ratios come from, repeated BENCH_ROUNDS times (default 3), interleaved, and each figure
 * taken as the median of its rounds: one 20 s run of a demo on two cores varies by ±15 %, as much as
 * what is measured. The other runs are made once.
 */
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const BASELINE_CLI = process.env['BENCH_BASELINE_CLI'];
if (BASELINE_CLI !== undefined) {
  // A/B: the three runs the ratios use, on this build and on the baseline build, interleaved.
  const kinds = [
    { name: 'no recorder', args: ['--flight-recorder-bytes', '0'], file: undefined },
    { name: 'flight recorder', args: [], file: undefined },
    { name: '--record + flight recorder', args: [], file: join(dir, 'ab.mcap') },
  ];
  const builds = [{ name: 'this build', cli: CLI }, { name: 'baseline build', cli: BASELINE_CLI }];
  const measured = new Map<string, Run[]>();
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const kind of kinds) {
        for (const build of builds) {
          const run = await measure(`${kind.name}, ${build.name}`, kind.args, 30, { cli: build.cli, ...(kind.file === undefined ? {} : { file: kind.file }) });
          measured.set(run.name, [...(measured.get(run.name) ?? []), run]);
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`\nA/B, simulator napari 0.4 at 60 Hz + ${IMAGE}² float32 image at 30 Hz, ${SECONDS} s per run, ${ROUNDS} rounds interleaved (median)\nthis build: ${CLI}\nbaseline build: ${BASELINE_CLI}\n`);
  console.log('| run | this build: CPU ms / frame | baseline build | this / baseline |');
  console.log('| --- | ---: | ---: | ---: |');
  const msOf = (name: string): number => medianRun(measured.get(name) ?? []).cpuMsPerFrame;
  for (const kind of kinds) {
    const [mine, theirs] = builds.map((build) => msOf(`${kind.name}, ${build.name}`)) as [number, number];
    console.log(`| ${kind.name} | ${mine.toFixed(2)} | ${theirs.toFixed(2)} | ${(mine / theirs).toFixed(2)} |`);
  }
  for (const build of builds) {
    const ms = (kind: string) => msOf(`${kind}, ${build.name}`);
    console.log(`${build.name}: --record / flight recorder ${(ms('--record + flight recorder') / ms('flight recorder')).toFixed(2)}, --record / no recorder ${(ms('--record + flight recorder') / ms('no recorder')).toFixed(2)}`);
  }
  process.exit(0);
}
const runs: Run[] = [];
try {
  const repeated: Run[][] = [[], [], [], []];
  for (let round = 0; round < ROUNDS; round++) {
    repeated[0]?.push(await measure('no recorder', ['--flight-recorder-bytes', '0'], 30, { save: false }));
    repeated[1]?.push(await measure('flight recorder (default 256 MiB)', [], 30, { save: round === 0 }));
    repeated[2]?.push(await measure('--record + flight recorder', [], 30, { file: join(dir, 'with-image.mcap') }));
    repeated[3]?.push(await measure('--record --record-raw-image-hz 0 (no RawImage copies)', ['--record-raw-image-hz', '0'], 30, { file: join(dir, 'no-raw-image.mcap') }));
  }
  const [none, flight, record, noRaw] = repeated.map(medianRun) as [Run, Run, Run, Run];
  runs.push(none, flight, record);
  runs.push(await measure('--record, no flight recorder', ['--flight-recorder-bytes', '0'], 30, { file: join(dir, 'with-image-only-file.mcap') }));
  runs.push(noRaw);
  runs.push(await measure('--record, no image stream', [], 0, { file: join(dir, 'no-image.mcap') }));
  runs.push(await measure('flight recorder 64 MiB', ['--flight-recorder-bytes', '64M'], 30));
  runs.push(await measure('--record, image at 60 Hz, no flight recorder', ['--flight-recorder-bytes', '0'], 60, { file: join(dir, 'image-60hz.mcap') }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const [none, flight, recordAll, recordOnly, recordNoRaw, noImage, flight64, record60] = runs as [Run, Run, Run, Run, Run, Run, Run, Run];
console.log(`\nwebmon recording, simulator napari 0.4 at 60 Hz + ${IMAGE}×${IMAGE} float32 image at 30 Hz, ${SECONDS} s per run${CLI === BUILT_CLI ? '' : ` (webmon: ${CLI})`}\n`);
console.log('| run | webmon CPU | image frames/s | CPU ms / frame | of which system | bytes on disk / min | dropped | RawImage messages/s | peak RSS | flight recorder held (max) / budget |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const run of runs) {
  console.log(`| ${run.name} | ${run.cpuPercent.toFixed(1)} % | ${run.framesPerSecond.toFixed(1)} | ${run.cpuMsPerFrame.toFixed(2)} | ${run.systemMsPerFrame.toFixed(2)} | ${mib(run.bytesPerMinute)} | ${run.dropped ?? '–'} | ${run.rawImagesPerSecond?.toFixed(1) ?? '–'} | ${run.rssMiB.toFixed(0)} MiB | ${run.flightBudget === 0 ? 'off' : `${mib(run.flightMaxBytes)} / ${mib(run.flightBudget)}`} |`);
}
const ratio = (a: Run, b: Run): string => `${(a.cpuPercent / b.cpuPercent).toFixed(2)} (per image frame ${(a.cpuMsPerFrame / b.cpuMsPerFrame).toFixed(2)})`;
console.log(`\nCPU ratio --record / flight recorder (webmon's defaults): ${ratio(recordAll, flight)} (goal ≤ 1.15)`);
// Frames the recorder dropped (a disk slower than the data) cost it almost nothing: were every frame written,
// what it adds would grow by about the inverse of the share it kept.
const kept = (run: Run): number => {
  const written = run.imageFramesRecorded ?? 0;
  return written / Math.max(1, written + (run.imageFramesDropped ?? 0));
};
console.log(`  image frames written ${(kept(recordAll) * 100).toFixed(1)} % (${recordAll.imageFramesDropped ?? 0} dropped); per image frame, with what recording adds scaled to every frame written: ${(1 + (recordAll.cpuMsPerFrame / flight.cpuMsPerFrame - 1) / Math.max(0.01, kept(recordAll))).toFixed(2)}`);
console.log(`CPU ratio --record with no RawImage copies / flight recorder: ${ratio(recordNoRaw, flight)}; frames written ${(kept(recordNoRaw) * 100).toFixed(1)} %`);
console.log(`CPU ratio --record alone / no recorder: ${ratio(recordOnly, none)}`);
console.log(`CPU ratio --record + flight recorder / no recorder: ${ratio(recordAll, none)}`);
console.log(`CPU ratio flight recorder / no recorder: ${ratio(flight, none)}`);
console.log(`bytes on disk per minute: ${mib(recordAll.bytesPerMinute)} with the image stream, ${mib(noImage.bytesPerMinute)} without`);
const recorded = record60.imageFramesRecorded ?? 0;
const droppedFrames = record60.imageFramesDropped ?? 0;
console.log(`${IMAGE}² float32 at 60 Hz (published ${record60.framesPerSecond.toFixed(1)}/s): ${recorded} frames recorded, ${droppedFrames} dropped (${((recorded / Math.max(1, recorded + droppedFrames)) * 100).toFixed(0)} % kept)`);
if (flight.save !== undefined) {
  const save = flight.save;
  console.log(`round trips to webmon, p99: ${save.quietP99.toFixed(1)} ms without a save, ${save.duringP99.toFixed(1)} ms during a save of the last 60 s (max ${save.duringMax.toFixed(0)} ms; the save took ${save.saveMs.toFixed(0)} ms for ${mib(save.saveBytes)})`);
}
for (const run of [flight, flight64]) {
  console.log(`flight recorder ${mib(run.flightBudget)}: held at most ${((run.flightMaxBytes / run.flightBudget) * 100).toFixed(1)} % of its budget; RSS ${run.rssMiB.toFixed(0)} MiB vs ${none.rssMiB.toFixed(0)} MiB without (+${(run.rssMiB - none.rssMiB).toFixed(0)} MiB)`);
}
