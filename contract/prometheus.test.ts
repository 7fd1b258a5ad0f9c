import {
  escapeHelp,
  escapeLabel,
  exposition,
  formatValue,
  labelText,
  PROMETHEUS_CONTENT_TYPE,
  renderScalars,
} from './prometheus.js';

describe('Prometheus text encoder', () => {
  test('label values escape backslash, quote and newline; HELP escapes backslash and newline only', () => {
    expect(escapeLabel('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
    expect(escapeHelp('say "hi"\\\nbye')).toBe('say "hi"\\\\\\nbye');
    expect(labelText(['a', 'b'], ['1', 'x"y'], 'le="0.5"')).toBe('{a="1",b="x\\"y",le="0.5"}');
    expect(labelText([], [])).toBe('');
  });

  test('values: integers as is, floats without binary noise, infinities and NaN spelled out', () => {
    expect(formatValue(3)).toBe('3');
    expect(formatValue(1_733_300_000_000)).toBe('1733300000000');
    expect(formatValue(0.1 + 0.2)).toBe('0.3');
    expect(formatValue(5.55)).toBe('5.55');
    expect(formatValue(Number.POSITIVE_INFINITY)).toBe('+Inf');
    expect(formatValue(Number.NEGATIVE_INFINITY)).toBe('-Inf');
    expect(formatValue(Number.NaN)).toBe('NaN');
  });

  test('scalars render as HELP, TYPE and one sample each, newline-terminated', () => {
    expect(
      renderScalars([
        { name: 'up', help: 'Is it up.', type: 'gauge', value: 1 },
        { name: 'runs_total', help: 'Runs.', type: 'counter', value: 42 },
      ]),
    ).toBe(
      '# HELP up Is it up.\n# TYPE up gauge\nup 1\n# HELP runs_total Runs.\n# TYPE runs_total counter\nruns_total 42\n',
    );
    expect(exposition([])).toBe('');
    expect(PROMETHEUS_CONTENT_TYPE).toBe('text/plain; version=0.0.4; charset=utf-8');
  });
});
