/**
 * The semantic cache's pure decisions (ADR 0076): is a chat request eligible for a semantic lookup, what text
 * of it is embedded, the fingerprint that keeps prompts apart (scope, route, model, embedding model, system
 * prompt, tools, answer format), and cosine similarity. No I/O; table-tested in semantic-prompt.test.ts.
 */
import { hash } from 'node:crypto';
import type { ClientFormat } from '../errors.js';

/**
 * Why a request is not looked up semantically. Agent steps (requests with tools, or carrying tool calls or
 * tool results) are off unless the route opts in: the same words with other tool results must not be
 * served one answer (docs/cache.md).
 */
export type SemanticIneligible = 'tools' | 'tool_results' | 'not_text' | 'empty';

type Json = Readonly<Record<string, unknown>>;

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The text of a message's content (string or text parts); undefined when a part is not text (images ...). */
function contentText(content: unknown, toolPart: (t: string) => boolean): string | undefined | 'tool' {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return content === undefined || content === null ? '' : undefined;
  let out = '';
  for (const p of content) {
    if (!isObj(p)) return undefined;
    const t = p.type;
    if (t === 'text' && typeof p.text === 'string') out = out === '' ? p.text : `${out}\n${p.text}`;
    else if (typeof t === 'string' && toolPart(t)) return 'tool';
    else return undefined;
  }
  return out;
}

const OPENAI_TOOL_PART = (_t: string): boolean => false;
const ANTHROPIC_TOOL_PART = (t: string): boolean => t === 'tool_use' || t === 'tool_result';

/**
 * The text to embed: every non-system message as `role: text` lines, in order (so one question after another
 * history is another prompt), or why the request is not eligible. The system prompt is not embedded: it is
 * part of the fingerprint (an exact match).
 */
export function semanticPrompt(
  format: ClientFormat,
  body: Json,
  includeAgentSteps: boolean,
): { readonly text: string } | SemanticIneligible {
  if (!includeAgentSteps && Array.isArray(body.tools) && body.tools.length > 0) return 'tools';
  const messages = body.messages;
  if (!Array.isArray(messages)) return 'empty';
  const toolPart = format === 'anthropic' ? ANTHROPIC_TOOL_PART : OPENAI_TOOL_PART;
  let text = '';
  for (const m of messages) {
    if (!isObj(m) || typeof m.role !== 'string') return 'not_text';
    const role = m.role;
    if (role === 'system' || role === 'developer') continue;
    if (role === 'tool' || role === 'function' || m.tool_calls !== undefined || m.function_call !== undefined) {
      if (!includeAgentSteps) return 'tool_results';
    }
    const t = contentText(m.content, toolPart);
    if (t === 'tool') {
      if (!includeAgentSteps) return 'tool_results';
      continue;
    }
    if (t === undefined) return 'not_text';
    if (t === '') continue;
    text = text === '' ? `${role}: ${t}` : `${text}\n${role}: ${t}`;
  }
  return text === '' ? 'empty' : { text };
}

/** The parts of a request a semantic hit must match exactly. */
export interface SemanticScope {
  /** `namespace` or `key:<key id>` (perKey): entries are never shared across. */
  readonly scope: string;
  readonly routeId: string;
  readonly model: string;
  readonly embeddingModel: string;
}

/**
 * The fingerprint of the vector set a request belongs to: a hash of the scope, route, model, embedding
 * model, system prompt, tools (and tool_choice) and answer format. Two requests are compared by similarity
 * only within one fingerprint. 32 hex characters (128 bits).
 */
export function semanticFingerprint(s: SemanticScope, format: ClientFormat, body: Json): string {
  const system: unknown[] = [];
  if (format === 'anthropic') system.push(body.system ?? null);
  else if (Array.isArray(body.messages))
    for (const m of body.messages)
      if (isObj(m) && (m.role === 'system' || m.role === 'developer')) system.push(m.role, m.content ?? null);
  const parts = [
    s.scope,
    s.routeId,
    s.model,
    s.embeddingModel,
    format,
    system,
    body.tools ?? null,
    body.tool_choice ?? null,
    body.response_format ?? null,
  ];
  return hash('sha256', JSON.stringify(parts), 'hex').slice(0, 32);
}

/** The scope id of a request: its namespace, or its key under perKey (anonymous requests share `~anonymous`). */
export function semanticScopeId(scope: 'namespace' | 'perKey', namespace: string, keyId: string | undefined): string {
  return scope === 'perKey' ? `key:${keyId ?? '~anonymous'}` : `ns:${namespace}`;
}

/** Cosine similarity of two vectors of one length (0 when either is all zeros). */
export function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/** v scaled to length 1 (in place; returned); an all-zero vector is left as it is. */
export function normalise(v: Float32Array): Float32Array {
  let n = 0;
  for (let i = 0; i < v.length; i++) n += v[i]! * v[i]!;
  if (n === 0) return v;
  const s = 1 / Math.sqrt(n);
  for (let i = 0; i < v.length; i++) v[i] = v[i]! * s;
  return v;
}
