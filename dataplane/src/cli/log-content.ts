/**
 * The content-logging switch shared by `tollgate run` and `tollgate dataplane`: `--log-content` or
 * TOLLGATE_LOG_CONTENT=true turns it on, `--log-content-max-bytes` (or TOLLGATE_LOG_CONTENT_MAX_BYTES)
 * caps each logged text. Parsed once at start; off unless asked for.
 */
import { type ContentLogOptions, DEFAULT_CONTENT_MAX_BYTES } from '../telemetry/content-log.js';
import { parseSize } from './size.js';

export const LOG_CONTENT_ENV = 'TOLLGATE_LOG_CONTENT';
export const LOG_CONTENT_MAX_BYTES_ENV = 'TOLLGATE_LOG_CONTENT_MAX_BYTES';

export type ParsedLogContent =
  | { readonly ok: true; readonly value: ContentLogOptions | undefined }
  | { readonly ok: false; readonly message: string };

/**
 * The flags win over the env. An env value other than true/false/1/0 is an error, not "off": a typo must
 * not silently decide whether prompts are logged.
 */
export function parseLogContent(
  flag: boolean | undefined,
  maxBytesFlag: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): ParsedLogContent {
  let on = flag === true;
  if (!on) {
    const e = (env[LOG_CONTENT_ENV] ?? '').trim().toLowerCase();
    if (e === 'true' || e === '1') on = true;
    else if (e !== '' && e !== 'false' && e !== '0')
      return { ok: false, message: `${LOG_CONTENT_ENV} must be true or false, got "${env[LOG_CONTENT_ENV]}"` };
  }
  const [text, source] =
    maxBytesFlag !== undefined
      ? [maxBytesFlag, '--log-content-max-bytes']
      : [env[LOG_CONTENT_MAX_BYTES_ENV], LOG_CONTENT_MAX_BYTES_ENV];
  let maxBytes = DEFAULT_CONTENT_MAX_BYTES;
  if (text !== undefined && text !== '') {
    const n = parseSize(text);
    if (n === undefined)
      return {
        ok: false,
        message: `${source} must be a positive number of bytes, optionally with Ki or Mi (like 16Ki), got "${text}"`,
      };
    maxBytes = n;
  }
  return { ok: true, value: on ? Object.freeze({ maxBytes }) : undefined };
}
