/**
 * Reading an Anthropic Messages request for a wire that is not Anthropic: the features only Anthropic has,
 * text-block content, and image/document sources. Pure.
 */
import { invalidField, isRecord, type JsonObject, set, unsupported } from './json.js';

/** Rejects MCP connectors and containers (Anthropic-hosted features). */
export function rejectAnthropicOnly(body: JsonObject): void {
  if (Array.isArray(body.mcp_servers) && body.mcp_servers.length > 0)
    throw unsupported('mcp_servers', 'MCP connectors are only available from Anthropic');
  if (set(body.container)) throw unsupported('container', 'containers are only available from Anthropic');
}

/** System prompt or tool_result content: a string or text blocks joined with newlines (cache_control, citations dropped). */
export function anthropicText(v: unknown, param: string, target: string): string {
  if (typeof v === 'string') return v;
  if (!Array.isArray(v)) throw invalidField(param, 'must be a string or an array of text blocks');
  let s = '';
  v.forEach((b, j) => {
    if (!isRecord(b) || b.type !== 'text')
      throw unsupported(
        `${param}[${j}]`,
        `block type ${isRecord(b) ? String(b.type) : typeof b} is not accepted here by ${target}`,
      );
    if (typeof b.text !== 'string') throw invalidField(`${param}[${j}].text`, 'must be a string');
    s += s === '' ? b.text : `\n${b.text}`;
  });
  return s;
}

/** The source of an image or document block; `other` for a source type the caller decides about. */
export type MediaSource =
  | { type: 'base64'; mediaType: string; data: string }
  | { type: 'url'; url: string }
  | { type: 'text'; data: string }
  | { type: 'other'; sourceType: unknown };

/** Reads `b.source` (`text` only for documents). */
export function anthropicSource(b: JsonObject, param: string): MediaSource {
  const src = b.source;
  if (!isRecord(src)) throw invalidField(`${param}.source`, 'must be an object');
  if (src.type === 'base64') {
    if (typeof src.media_type !== 'string' || typeof src.data !== 'string')
      throw invalidField(`${param}.source`, 'base64 source needs media_type and data');
    return { type: 'base64', mediaType: src.media_type, data: src.data };
  }
  if (src.type === 'url') {
    if (typeof src.url !== 'string') throw invalidField(`${param}.source.url`, 'must be a string');
    return { type: 'url', url: src.url };
  }
  if (src.type === 'text' && b.type === 'document') {
    if (typeof src.data !== 'string') throw invalidField(`${param}.source.data`, 'must be a string');
    return { type: 'text', data: src.data };
  }
  return { type: 'other', sourceType: src.type };
}
