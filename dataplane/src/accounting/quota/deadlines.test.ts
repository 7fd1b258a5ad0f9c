import { type DeadlineClock, Deadlines } from './deadlines.js';

/** A clock moved by hand; timers fire in `advance`. */
function fakeClock() {
  let t = 0;
  const timers: { at: number; fn: () => void }[] = [];
  const clock: DeadlineClock = { now: () => t, after: (ms, fn) => void timers.push({ at: t + ms, fn }) };
  return {
    clock,
    timers,
    advance(ms: number) {
      const end = t + ms;
      for (;;) {
        timers.sort((a, b) => a.at - b.at);
        const next = timers[0];
        if (next === undefined || next.at > end) break;
        timers.shift();
        t = next.at;
        next.fn();
      }
      t = end;
    },
  };
}

describe('call deadlines (one timer for all calls)', () => {
  test('a call not finished within the timeout is failed once; its late answer is then refused', () => {
    const { clock, advance } = fakeClock();
    const d = new Deadlines(250, clock);
    const failed: string[] = [];
    const a = d.start(() => failed.push('a'));
    advance(100);
    const b = d.start(() => failed.push('b'));
    advance(149);
    expect(failed).toEqual([]);
    advance(1);
    expect(failed).toEqual(['a']);
    expect(a.finish()).toBe(false);
    expect(b.finish()).toBe(true);
    advance(1000);
    expect(failed).toEqual(['a']);
  });

  test('calls answered in time arm no timer of their own', () => {
    const { clock, timers, advance } = fakeClock();
    const d = new Deadlines(250, clock);
    const failed: number[] = [];
    for (let i = 0; i < 100; i++) {
      expect(d.start(() => failed.push(i)).finish()).toBe(true);
      advance(1);
    }
    expect(timers).toHaveLength(1);
    advance(1000);
    expect(timers).toHaveLength(0); // nothing left under way: the timer stays off
    expect(failed).toEqual([]);
    d.start(() => failed.push(-1));
    expect(timers).toHaveLength(1);
  });

  test('after firing, the timer is armed for the oldest call still under way', () => {
    const { clock, advance } = fakeClock();
    const d = new Deadlines(250, clock);
    const failed: string[] = [];
    d.start(() => failed.push('a')).finish();
    advance(200);
    d.start(() => failed.push('b'));
    advance(50); // the first timer fires: 'a' answered, 'b' due at 450
    expect(failed).toEqual([]);
    advance(199);
    expect(failed).toEqual([]);
    advance(1);
    expect(failed).toEqual(['b']);
  });

  test('a call started while failing others gets its own full timeout', () => {
    const { clock, advance } = fakeClock();
    const d = new Deadlines(250, clock);
    const failed: string[] = [];
    d.start(() => {
      failed.push('a');
      d.start(() => failed.push('b'));
    });
    advance(250);
    expect(failed).toEqual(['a']);
    advance(249);
    expect(failed).toEqual(['a']);
    advance(1);
    expect(failed).toEqual(['a', 'b']);
  });
});
