/**
 * Reading an Anthropic Messages request for a wire that is not Anthropic: the features only Anthropic has,
 * text-block content, and image/document sources. The request is typed (api/schemas.ts checked its shape).
 * Pure.
 */
import type {
  AnthropicDocumentSource,
  AnthropicImageSource,
  AnthropicSystemBlock,
  AnthropicToolResultBlock,
} from '../../api/parts.js';
import type { AnthropicMessagesRequest } from '../../api/schemas.js';
import { set, unsupported } from './json.js';

/** Rejects MCP connectors and containers (Anthropic-hosted features). */
export function rejectAnthropicOnly(body: AnthropicMessagesRequest): void {
  if (Array.isArray(body.mcp_servers) && body.mcp_servers.length > 0)
    throw unsupported('mcp_servers', 'MCP connectors are only available from Anthropic');
  if (set(body.container)) throw unsupported('container', 'containers are only available from Anthropic');
}

/** System prompt or tool_result content: a string or text blocks joined with newlines (cache_control, citations dropped). */
export function anthropicText(
  v: string | readonly (AnthropicSystemBlock | AnthropicToolResultBlock)[],
  param: string,
  target: string,
): string {
  if (typeof v === 'string') return v;
  let s = '';
  v.forEach((b, j) => {
    if (b.type !== 'text')
      throw unsupported(`${param}[${j}]`, `block type ${String(b.type)} is not accepted here by ${target}`);
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

/** Reads a block's `source` (`text` only for documents). */
export function anthropicSource(src: AnthropicImageSource | AnthropicDocumentSource): MediaSource {
  switch (src.type) {
    case 'base64':
      return { type: 'base64', mediaType: src.media_type, data: src.data };
    case 'url':
      return { type: 'url', url: src.url };
    case 'text':
      return { type: 'text', data: src.data };
    default:
      return { type: 'other', sourceType: src.type };
  }
}
