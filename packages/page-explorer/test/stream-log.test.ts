import { describe, expect, it } from 'vitest';
import { createStreamLog } from '../src/stream-log.js';

describe('createStreamLog', () => {
  it('keeps the newest entries only, and counts everything received', () => {
    const log = createStreamLog(3);
    for (let seq = 0; seq < 10; seq++) log.add(seq, 1000 + seq, `m${seq}`);
    expect(log.state.received).toBe(10);
    expect(log.state.entries.map((entry) => entry.text)).toEqual(['m7', 'm8', 'm9']);
    expect(log.state.dropped).toBe(0);
  });

  it('notes a jump in sequence numbers as a gap with the dropped range', () => {
    const log = createStreamLog(10);
    log.add(4, 1, 'a');
    log.add(5, 2, 'b');
    log.add(9, 3, 'c');
    expect(log.state.dropped).toBe(3);
    expect(log.state.entries.map((entry) => [entry.kind, entry.text])).toEqual([
      ['message', 'a'],
      ['message', 'b'],
      ['gap', '3 dropped (seq 6–8)'],
      ['message', 'c'],
    ]);
  });

  it('takes a lower sequence number as a new server session, not a gap', () => {
    const log = createStreamLog(10);
    log.add(100, 1, 'a');
    log.add(0, 2, 'b');
    log.add(1, 3, 'c');
    expect(log.state.dropped).toBe(0);
    expect(log.state.entries.every((entry) => entry.kind === 'message')).toBe(true);
  });

  it("lists the relay's gap notices, and infers none from seq jumps when it has them", () => {
    const log = createStreamLog(10, false);
    log.add(4, 1, 'a');
    log.gap(5, 7, 3, 2);
    log.add(8, 3, 'b');
    log.add(20, 4, 'c'); // a jump the relay did not report (e.g. a reconnect): not a drop
    expect(log.state.dropped).toBe(3);
    expect(log.state.entries.map((entry) => [entry.kind, entry.text])).toEqual([
      ['message', 'a'],
      ['gap', '3 dropped (seq 5–7)'],
      ['message', 'b'],
      ['message', 'c'],
    ]);
  });
});
