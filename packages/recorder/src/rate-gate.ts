/**
 * Which frames of one topic also get a RawImage message: at most `hz` per second of the frames' own clock
 * (publish time: steady even when webmon receives frames in bursts). A frame is taken once it is due; the
 * next is due one period after the previous due time, but never less than half a period after the frame
 * taken — so the long-run rate stays ≤ hz, and a stream at exactly hz whose frames come up to a quarter
 * period early or late still has every frame taken (the due time then never runs more than a quarter
 * period past a frame's place). A clock that goes back (a restarted source) starts over.
 */
export class RateGate {
  private due = -Infinity;
  private last = -Infinity;
  private readonly periodMs: number;

  constructor(hz: number) {
    this.periodMs = 1000 / hz;
  }

  admit(timeMs: number): boolean {
    if (timeMs < this.last) this.due = -Infinity;
    if (timeMs < this.due) return false;
    this.due = Math.max(this.due + this.periodMs, timeMs + this.periodMs / 2);
    this.last = timeMs;
    return true;
  }
}
