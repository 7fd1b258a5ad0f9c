/** docs/routing.md "Passive health", one row per rule (the clock is injected). */
import { describe, expect, it } from '@jest/globals';
import { HealthRegistry } from './health.js';

function backend(options: ConstructorParameters<typeof HealthRegistry>[0] = {}) {
  const clock = { now: 1_000_000 };
  const registry = new HealthRegistry({ now: () => clock.now, ...options });
  return { clock, registry, h: registry.get('ai/p', 'm') };
}

describe('passive health', () => {
  it('5 failures in a row eject a backend for 30 s; 4 do not', () => {
    const { clock, h } = backend();
    for (let i = 0; i < 4; i++) h.failure();
    expect(h.isEjected(clock.now)).toBe(false);
    h.failure();
    expect(h.isEjected(clock.now)).toBe(true);
    expect(h.ejectedUntil - clock.now).toBe(30_000);
    expect(h.isEjected(clock.now + 30_000)).toBe(false);
  });

  it('each repeated ejection without a success in between doubles the cool-down, up to 5 min', () => {
    const { clock, h } = backend();
    const coolDowns: number[] = [];
    for (let n = 0; n < 6; n++) {
      for (let i = 0; i < 5; i++) h.failure(h.epoch);
      coolDowns.push(h.ejectedUntil - clock.now);
      clock.now = h.ejectedUntil; // readmitted
    }
    expect(coolDowns).toEqual([30_000, 60_000, 120_000, 240_000, 300_000, 300_000]);
  });

  it('a success resets the failure count', () => {
    const { clock, h } = backend();
    for (let i = 0; i < 4; i++) h.failure();
    h.success();
    for (let i = 0; i < 4; i++) h.failure();
    expect(h.isEjected(clock.now)).toBe(false);
    expect(h.consecutiveFailures).toBe(4);
  });

  it('a success resets the cool-down: the next ejection is 30 s again', () => {
    const { clock, h } = backend();
    for (let i = 0; i < 5; i++) h.failure();
    clock.now = h.ejectedUntil;
    h.success();
    expect(h.isEjected(clock.now)).toBe(false);
    for (let i = 0; i < 5; i++) h.failure();
    expect(h.ejectedUntil - clock.now).toBe(30_000);
  });

  it('failures of tries in flight before the ejection neither extend nor escalate it', () => {
    const { clock, h } = backend();
    // 30 tries start together, then all fail.
    const started = Array.from({ length: 30 }, () => h.epoch);
    for (const e of started) h.failure(e);
    expect(h.ejections).toBe(1);
    expect(h.ejectedUntil - clock.now).toBe(30_000);
    expect(h.consecutiveFailures).toBe(0);
    // A try started after the ejection (panic, or after readmission) counts: failing again escalates.
    clock.now = h.ejectedUntil;
    for (let i = 0; i < 5; i++) h.failure(h.epoch);
    expect(h.ejections).toBe(2);
    expect(h.ejectedUntil - clock.now).toBe(60_000);
  });

  it('threshold and cool-downs are options; the longest cool-down is never below the first', () => {
    const { clock, h } = backend({ failureThreshold: 2, ejectMs: 1000, maxEjectMs: 500 });
    h.failure();
    h.failure();
    expect(h.ejectedUntil - clock.now).toBe(1000);
  });

  it('health state is per provider and model, and survives config reloads (retain keeps what is still used)', () => {
    const { registry, h } = backend();
    expect(registry.get('ai/p', 'm')).toBe(h);
    expect(registry.get('ai/p', 'other')).not.toBe(h);
    registry.retain(new Set([h.key]));
    expect(registry.get('ai/p', 'm')).toBe(h);
    registry.retain(new Set());
    expect(registry.get('ai/p', 'm')).not.toBe(h);
  });
});

describe('active health feeding passive health (ADR 0067)', () => {
  it('failed probes eject with the passive cool-down and hold the backend out until a probe succeeds', () => {
    const { clock, h } = backend();
    h.probeFailed(clock.now + 12_000);
    expect(h.ejectedUntil - clock.now).toBe(30_000);
    // Still failing as the cool-down ends: held out until the next probe's end, not readmitted in between.
    clock.now = h.ejectedUntil - 1;
    h.probeFailed(clock.now + 12_000);
    expect(h.ejectedUntil - clock.now).toBe(12_000);
    expect(h.ejections).toBe(1);
    // Readmitted by a probe success at once, and the escalation starts over.
    h.success();
    expect(h.isEjected(clock.now)).toBe(false);
    h.probeFailed(clock.now + 12_000);
    expect(h.ejectedUntil - clock.now).toBe(30_000);
  });

  it('lists one provider’s entries (every model), not another’s', () => {
    const { registry, h } = backend();
    const m2 = registry.get('ai/p', 'm2');
    registry.get('ai/p2', 'm');
    expect(registry.ofProvider('ai/p')).toEqual([h, m2]);
  });
});
