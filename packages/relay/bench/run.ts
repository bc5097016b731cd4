/**
 * `pnpm --filter @webmon/relay bench`: every relay benchmark side by side with its baseline, one run.
 *   RELAY_BENCH_SECONDS  seconds of each fan-out throughput phase (default 2)
 *   RELAY_BENCH_ROUNDS   alternating rounds per comparison; medians are reported (default 3)
 *   RELAY_BINARY_FRAMES  4 MiB frames per binary run (default 64)
 *   RELAY_SOAK_SECONDS   soak duration (default 60; `bench:full` runs the 300 s of the goal)
 */
import { runBinary, FRAME_BYTES, type BinaryResult } from './binary.js';
import { runFanout, LATENCY_DELIVERED_RATE, type FanoutResult } from './fanout.js';
import { runSoak } from './soak.js';

const envNumber = (name: string, fallback: number) => {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
};
const fanoutSeconds = envNumber('RELAY_BENCH_SECONDS', 2);
const rounds = envNumber('RELAY_BENCH_ROUNDS', 3);
const binaryFrames = envNumber('RELAY_BINARY_FRAMES', 64);
const soakSeconds = envNumber('RELAY_SOAK_SECONDS', 60);

const fmt = (value: number, digits = 1) => value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const verdict = (ok: boolean) => (ok ? 'MET' : 'NOT MET');
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
/** Per-metric medians over rounds: the machine is shared, single runs swing by 2× either way. */
function medianFanout(results: FanoutResult[]): FanoutResult {
  const pick = (key: keyof FanoutResult) => median(results.map((result) => result[key] as number));
  return {
    ...results[0]!,
    messagesPerSecond: pick('messagesPerSecond'),
    p50Ms: pick('p50Ms'),
    p99Ms: pick('p99Ms'),
    serverCpuMicrosPerMessage: pick('serverCpuMicrosPerMessage'),
    clientCpuMicrosPerMessage: pick('clientCpuMicrosPerMessage'),
  };
}

console.log(`@webmon/relay benchmarks — Node ${process.version}, ${new Date().toISOString()}`);
console.log(`medians of ${rounds} alternating rounds; fan-out: ${fanoutSeconds} s throughput phase + latency phase at ${LATENCY_DELIVERED_RATE.toLocaleString()} delivered msg/s; binary: ${binaryFrames} × 4 MiB; soak: ${soakSeconds} s${soakSeconds < 300 ? ' (the goal is 300 s: RELAY_SOAK_SECONDS=300 or `bench:full`)' : ''}\n`);

// 1. Fan-out -------------------------------------------------------------------------------------
console.log('1. Fan-out of ~200-byte JSON messages (clients in a separate process)');
console.log('clients | system    |  delivered msg/s | p50 ms | p99 ms | server CPU µs/msg | client CPU µs/msg');
const fanout: { relay: FanoutResult; socketIo: FanoutResult }[] = [];
for (const clients of [1, 10, 100]) {
  const relayRuns: FanoutResult[] = [];
  const socketIoRuns: FanoutResult[] = [];
  for (let round = 0; round < rounds; round += 1) {
    socketIoRuns.push(await runFanout('socket.io', clients, fanoutSeconds));
    relayRuns.push(await runFanout('relay', clients, fanoutSeconds));
  }
  const relay = medianFanout(relayRuns);
  const socketIo = medianFanout(socketIoRuns);
  for (const result of [relay, socketIo]) {
    console.log(`${String(clients).padStart(7)} | ${result.system.padEnd(9)} | ${fmt(result.messagesPerSecond, 0).padStart(16)} | ${fmt(result.p50Ms, 2).padStart(6)} | ${fmt(result.p99Ms, 2).padStart(6)} | ${fmt(result.serverCpuMicrosPerMessage, 2).padStart(17)} | ${fmt(result.clientCpuMicrosPerMessage, 2).padStart(17)}`);
  }
  fanout.push({ relay, socketIo });
}
console.log('\nratios relay ÷ socket.io (goal: throughput ≥ 3× at equal or lower p99)');
for (const { relay, socketIo } of fanout) {
  const throughput = relay.messagesPerSecond / socketIo.messagesPerSecond;
  const serverCapacity = socketIo.serverCpuMicrosPerMessage / relay.serverCpuMicrosPerMessage;
  console.log(`${String(relay.clients).padStart(4)} clients: throughput ${fmt(throughput, 2)}× (${verdict(throughput >= 3)}), server CPU per message ${fmt(serverCapacity, 2)}× less, p99 ${fmt(relay.p99Ms, 2)} vs ${fmt(socketIo.p99Ms, 2)} ms (${verdict(relay.p99Ms <= socketIo.p99Ms)})`);
}

// 2. Binary ---------------------------------------------------------------------------------------
console.log(`\n2. ${FRAME_BYTES / 2 ** 20} MiB binary frames to one client (another process)`);
const binary: BinaryResult[] = [];
const binaryRuns = new Map<BinaryResult['system'], BinaryResult[]>();
for (let round = 0; round < rounds; round += 1) {
  for (const system of ['raw net', 'relay', 'ws fragments'] as const) {
    binaryRuns.set(system, [...(binaryRuns.get(system) ?? []), await runBinary(system, binaryFrames)]);
  }
}
for (const runs of binaryRuns.values()) binary.push({ ...runs[0]!, gigabytesPerSecond: median(runs.map((run) => run.gigabytesPerSecond)) });
const bound = binary[0]!;
for (const result of binary) {
  console.log(`${result.system.padEnd(13)} ${fmt(result.gigabytesPerSecond, 2)} GB/s  (${fmt((result.gigabytesPerSecond / bound.gigabytesPerSecond) * 100, 0)} % of raw net)`);
}
const relayBinary = binary[1]!;
console.log(`goal ≥ 1 GB/s: ${verdict(relayBinary.gigabytesPerSecond >= 1)} (${fmt(relayBinary.gigabytesPerSecond, 2)} GB/s; the raw net bound on this machine is ${fmt(bound.gigabytesPerSecond, 2)} GB/s)`);

// 3. Soak -----------------------------------------------------------------------------------------
console.log(`\n3. Soak: ${soakSeconds} s at 60 Hz, 10 clients, one frozen`);
const soak = await runSoak(soakSeconds, (line) => console.log(line));
console.log(`ran ${fmt(soak.seconds, 0)} s, ${soak.publishedPerTopic} ticks × 4 topics (incl. a 256 KiB image); readers got ${fmt(soak.readersReceivedRatio * 100, 1)} % of frame_time`);
console.log(`server RSS after warm-up (first fifth) ${fmt(soak.rssStartMiB)} → ${fmt(soak.rssEndMiB)} MiB (peak ${fmt(soak.rssPeakMiB)}): ${fmt(soak.rssGrowthPercent, 1)} % — goal flat within 10 %: ${verdict(Math.abs(soak.rssGrowthPercent) <= 10)}`);
console.log(`RSS every tenth of the run (MiB): ${soak.rssTrace.map((value) => fmt(value, 0)).join(' ')}`);
console.log(`frozen client holds ${fmt(soak.stalledHeldBytes / 2 ** 20, 2)} MiB of its ${fmt(soak.stalledBudgetBytes / 2 ** 20, 2)} MiB budget; ${soak.stalledDropped} stream messages dropped for it`);
process.exit(0);
