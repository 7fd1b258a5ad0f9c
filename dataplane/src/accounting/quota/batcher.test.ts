import { Batcher, type BatchScheduler } from './batcher.js';

interface TestOp {
  readonly kind: 'r' | 's';
  readonly id: string;
}

/** A scheduler run by hand: `soon` callbacks run at `endTask()`, `endOfTurn` ones at `endTurn()`. */
function manual() {
  const soon: (() => void)[] = [];
  const turn: (() => void)[] = [];
  const scheduler: BatchScheduler = { soon: (fn) => soon.push(fn), endOfTurn: (fn) => turn.push(fn) };
  const drain = (q: (() => void)[]) => {
    for (const fn of q.splice(0)) fn();
  };
  const endTask = () => drain(soon);
  const endTurn = () => {
    drain(soon);
    drain(turn);
  };
  return { scheduler, endTask, endTurn };
}

function setup(maxBatch = 128) {
  const calls: string[][] = [];
  const m = manual();
  const b = new Batcher<TestOp>((ops) => calls.push(ops.map((o) => o.id)), maxBatch, m.scheduler);
  const r = (id: string) => b.add({ kind: 'r', id });
  const s = (id: string) => b.add({ kind: 's', id });
  return { b, calls, r, s, ...m };
}

describe('quota call batching', () => {
  test('an admission at an idle moment goes when its task ends, without waiting for the end of the turn', () => {
    const { calls, r, endTask } = setup();
    r('a1');
    r('a2'); // issued by the same task: same call
    expect(calls).toEqual([]);
    endTask();
    expect(calls).toEqual([['a1', 'a2']]);
  });

  test('admissions while a call is under way go at the end of the turn as one call, not behind the call', () => {
    const { calls, r, endTask, endTurn } = setup();
    r('a1');
    endTask();
    r('a2');
    endTask();
    r('a3');
    expect(calls).toEqual([['a1']]);
    endTurn();
    expect(calls).toEqual([['a1'], ['a2', 'a3']]);
  });

  test('admissions waiting for the end of the turn go as soon as the call under way comes back', () => {
    const { b, calls, r, endTask, endTurn } = setup();
    r('a1');
    endTask();
    r('a2');
    b.done();
    expect(calls).toEqual([['a1'], ['a2']]);
    endTurn();
    expect(calls).toHaveLength(2);
  });

  test('settlements ride along with the next call while one is under way, and go when it comes back', () => {
    const { b, calls, r, s, endTask, endTurn } = setup();
    r('a1');
    endTask();
    s('s1');
    endTurn();
    expect(calls).toEqual([['a1']]);
    r('a2');
    endTurn();
    expect(calls).toEqual([['a1'], ['s1', 'a2']]);
    s('s2');
    b.done();
    expect(calls).toHaveLength(2); // one call still under way
    b.done();
    expect(calls).toEqual([['a1'], ['s1', 'a2'], ['s2']]);
  });

  test('a settlement at an idle moment waits for the end of the turn, or leaves with an admission', () => {
    const { b, calls, r, s, endTask, endTurn } = setup();
    s('s1');
    endTask();
    expect(calls).toEqual([]);
    endTurn();
    expect(calls).toEqual([['s1']]);
    b.done();
    s('s2');
    r('a1');
    endTask();
    expect(calls).toEqual([['s1'], ['s2', 'a1']]);
  });

  test('at most maxBatch operations a call; flush() sends what waits', () => {
    const { b, calls, r, s, endTask } = setup(2);
    for (const id of ['a1', 'a2', 'a3']) r(id);
    endTask();
    expect(calls).toEqual([['a1', 'a2'], ['a3']]);
    s('s1');
    expect(b.queued).toBe(1);
    b.flush();
    expect(calls).toEqual([['a1', 'a2'], ['a3'], ['s1']]);
  });
});
