import { describe, expect, it } from 'vitest';
import { RateGate } from '../src/rate-gate.js';

const admitted = (gate: RateGate, times: number[]) => times.filter((time) => gate.admit(time));

describe('RateGate (which frames get a RawImage copy)', () => {
  it('takes the first frame, then at most hz a second of the frames\' clock', () => {
    const times = [...Array(300).keys()].map((n) => 1_000 + (n * 1000) / 30); // 10 s at 30 Hz
    const taken = admitted(new RateGate(5), times);
    expect(taken.length).toBeGreaterThanOrEqual(50);
    expect(taken.length).toBeLessThanOrEqual(51);
    expect(admitted(new RateGate(1), times).length).toBeLessThanOrEqual(11);
  });

  it('at the source rate, keeps frames that come up to a quarter period early or late; beyond the rate, thins', () => {
    const jitter = [0, 8, -8, 5, -6, 8, -8, 2]; // ms, at 30 Hz (a quarter period: 8.3 ms)
    const times = [...Array(200).keys()].map((n) => (n * 1000) / 30 + (jitter[n % jitter.length] as number));
    expect(admitted(new RateGate(30), times)).toEqual(times);
    // A source a little faster than the rate drifts past it and loses a frame now and then: hence
    // "above the source's rate" to keep every frame.
    const faster = [...Array(200).keys()].map((n) => n * 33.2 + (jitter[n % jitter.length] as number));
    expect(admitted(new RateGate(30), faster).length).toBeLessThan(200);
    expect(admitted(new RateGate(60), faster)).toEqual(faster);
    expect(admitted(new RateGate(Infinity), [5, 5, 5, 6])).toEqual([5, 5, 5, 6]);
    expect(admitted(new RateGate(30), [0, 1, 2, 40])).toEqual([0, 40]);
  });

  it('starts over when the clock goes back (a source that restarted)', () => {
    const gate = new RateGate(5);
    expect(admitted(gate, [10_000, 10_050, 10_150])).toEqual([10_000, 10_150]);
    // Without starting over, nothing would be due until 10 350.
    expect(admitted(gate, [500, 550, 650])).toEqual([500, 650]);
  });
});
