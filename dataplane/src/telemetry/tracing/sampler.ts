/**
 * Head sampling from the standard variables OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG (the
 * OpenTelemetry SDK configuration spec): always_on, always_off, traceidratio and their parentbased_
 * forms; the default is parentbased_always_on. Pure: a decision from the parent and the trace id.
 */

/** What a span descends from: the client's traceparent (remote) or a span of this process. */
export interface ParentContext {
  readonly traceId: string;
  readonly spanId: string;
  readonly sampled: boolean;
  readonly remote: boolean;
}

/** True when a new span of `traceId` under `parent` is recorded and exported. */
export type Sampler = (parent: ParentContext | undefined, traceId: string) => boolean;

const alwaysOn: Sampler = () => true;
const alwaysOff: Sampler = () => false;

/**
 * Samples a fixed share of traces, decided by the trace id alone so every span of a trace (and every
 * service using the same rule) agrees: the XOR of the id's 32-bit words against ratio × 2^32 − 1.
 */
export function traceIdRatio(ratio: number): Sampler {
  if (!(ratio > 0)) return alwaysOff;
  if (ratio >= 1) return alwaysOn;
  const bound = Math.floor(ratio * 0xffffffff);
  return (_parent, traceId) => {
    let acc = 0;
    for (let i = 0; i < traceId.length; i += 8) acc ^= Number.parseInt(traceId.slice(i, i + 8), 16);
    return acc >>> 0 < bound;
  };
}

/** A child follows its parent's decision; a root span asks `root`. */
export function parentBased(root: Sampler): Sampler {
  return (parent, traceId) => (parent ? parent.sampled : root(parent, traceId));
}

export interface SamplerChoice {
  sampler: Sampler;
  /** What the configuration resolved to, e.g. `parentbased_traceidratio(0.1)`. */
  description: string;
  /** Set when a value was not understood and a default took its place. */
  warning?: string;
}

export function samplerFromEnv(env: NodeJS.ProcessEnv): SamplerChoice {
  const name = (env.OTEL_TRACES_SAMPLER ?? '').trim().toLowerCase() || 'parentbased_always_on';
  const warnings: string[] = [];
  const ratio = (): number => {
    const raw = (env.OTEL_TRACES_SAMPLER_ARG ?? '').trim();
    const n = Number(raw);
    if (raw === '') return 1;
    if (!Number.isFinite(n) || n < 0 || n > 1) {
      warnings.push(`OTEL_TRACES_SAMPLER_ARG=${raw} is not a ratio in [0, 1]; using 1`);
      return 1;
    }
    return n;
  };
  let choice: SamplerChoice;
  switch (name) {
    case 'always_on':
      choice = { sampler: alwaysOn, description: name };
      break;
    case 'always_off':
      choice = { sampler: alwaysOff, description: name };
      break;
    case 'traceidratio': {
      const r = ratio();
      choice = { sampler: traceIdRatio(r), description: `${name}(${r})` };
      break;
    }
    case 'parentbased_always_on':
      choice = { sampler: parentBased(alwaysOn), description: name };
      break;
    case 'parentbased_always_off':
      choice = { sampler: parentBased(alwaysOff), description: name };
      break;
    case 'parentbased_traceidratio': {
      const r = ratio();
      choice = { sampler: parentBased(traceIdRatio(r)), description: `${name}(${r})` };
      break;
    }
    default:
      warnings.push(`OTEL_TRACES_SAMPLER=${name} is not supported; using parentbased_always_on`);
      choice = { sampler: parentBased(alwaysOn), description: 'parentbased_always_on' };
  }
  return warnings.length > 0 ? { ...choice, warning: warnings.join('; ') } : choice;
}
