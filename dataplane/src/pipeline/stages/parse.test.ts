import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { describe, expect, test } from '@jest/globals';
import { GatewayError } from '../../errors.js';
import { EMPTY_TABLE } from '../../routing/table.js';
import { Exchange } from '../exchange.js';
import { parseStage } from './parse.js';

function exchange(raw: Buffer | undefined, format: 'openai' | 'anthropic' = 'openai'): Exchange {
  const req = new IncomingMessage(new Socket());
  const x = new Exchange(req, new ServerResponse(req), format, 'chat', undefined, EMPTY_TABLE);
  x.raw = raw;
  return x;
}

const refusal = (x: Exchange) => {
  const r = parseStage.run(x);
  if (!(r instanceof GatewayError)) throw new Error('expected a refusal');
  return { code: r.code, message: r.message, param: r.param };
};

describe('parse stage', () => {
  test('a valid body fills in body, model, stream and usage, starts the clock and lets go of the bytes', () => {
    const before = performance.now();
    const x = exchange(
      Buffer.from(
        JSON.stringify({
          model: 'gpt-4o',
          stream: true,
          stream_options: { include_usage: true },
          messages: [{ role: 'user', content: 'hi' }],
        }),
      ),
    );
    expect(parseStage.run(x)).toBe(x);
    expect(x.model).toBe('gpt-4o');
    expect(x.stream).toBe(true);
    expect(x.clientWantsUsage).toBe(true);
    expect(x.body).toMatchObject({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
    expect(x.raw).toBeUndefined();
    expect(x.startedAt).toBeGreaterThanOrEqual(before);
  });

  test('bytes that are not UTF-8: invalid_json', () => {
    expect(refusal(exchange(Buffer.from([0x7b, 0xff, 0x7d])))).toMatchObject({
      code: 'invalid_json',
      message: 'request body is not valid UTF-8',
    });
  });

  test('not JSON: invalid_json, without quoting the body (it is the prompt)', () => {
    const r = refusal(exchange(Buffer.from('summarise this secret plan')));
    expect(r.code).toBe('invalid_json');
    expect(r.message).toMatch(/^request body is not valid JSON: /);
    expect(r.message).not.toContain('summarise');
  });

  test("the format's schema refuses with the parameter at fault, returned (not thrown)", () => {
    const r = refusal(exchange(Buffer.from(JSON.stringify({ model: 'claude', max_tokens: 5 })), 'anthropic'));
    expect(r.code).toBe('invalid_request');
    expect(r.param).toBe('messages');
  });

  test('no bytes at all (a stage list without read-body): invalid_json', () => {
    expect(refusal(exchange(undefined)).code).toBe('invalid_json');
  });
});
