/**
 * SigV4 against AWS's published vectors: the SigV4 test suite (`post-vanilla`, `post-sts-header-before`, credentials
 * AKIDEXAMPLE / wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, 2015-08-30T12:36:00Z, us-east-1, service `service`) and
 * the IAM ListUsers example of the SigV4 documentation.
 */
import { describe, expect, it } from '@jest/globals';
import { amzDate, signV4, uriEncode } from './sigv4.js';

const NOW = Date.UTC(2015, 7, 30, 12, 36, 0);
const CREDS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

describe('signV4', () => {
  it('post-vanilla (AWS SigV4 test suite)', () => {
    const s = signV4({
      method: 'POST',
      host: 'example.amazonaws.com',
      path: '/',
      body: '',
      region: 'us-east-1',
      service: 'service',
      credentials: CREDS,
      now: NOW,
    });
    expect(s.canonicalRequest).toBe(
      `POST\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n${EMPTY}`,
    );
    expect(s.stringToSign.split('\n').slice(0, 3)).toEqual([
      'AWS4-HMAC-SHA256',
      '20150830T123600Z',
      '20150830/us-east-1/service/aws4_request',
    ]);
    expect(s.headers.authorization).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b',
    );
    expect(s.headers['x-amz-date']).toBe('20150830T123600Z');
  });

  it('post-sts-header-before: the session token is sent and signed', () => {
    const token =
      'AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==';
    const s = signV4({
      method: 'POST',
      host: 'example.amazonaws.com',
      path: '/',
      body: '',
      region: 'us-east-1',
      service: 'service',
      credentials: { ...CREDS, sessionToken: token },
      now: NOW,
    });
    expect(s.headers['x-amz-security-token']).toBe(token);
    expect(s.headers.authorization).toContain('SignedHeaders=host;x-amz-date;x-amz-security-token,');
    expect(s.signature).toBe('85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead');
  });

  it('IAM ListUsers example (a query and a content-type header)', () => {
    const s = signV4({
      method: 'GET',
      host: 'iam.amazonaws.com',
      path: '/',
      query: 'Action=ListUsers&Version=2010-05-08',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body: '',
      region: 'us-east-1',
      service: 'iam',
      credentials: CREDS,
      now: NOW,
    });
    expect(s.canonicalRequest).toBe(
      [
        'GET',
        '/',
        'Action=ListUsers&Version=2010-05-08',
        'content-type:application/x-www-form-urlencoded; charset=utf-8',
        'host:iam.amazonaws.com',
        'x-amz-date:20150830T123600Z',
        '',
        'content-type;host;x-amz-date',
        EMPTY,
      ].join('\n'),
    );
    expect(s.stringToSign).toBe(
      'AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/iam/aws4_request\nf536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59',
    );
    expect(s.signature).toBe('5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7');
  });

  it('a Bedrock request: the path is encoded once more, the body hash is signed and sent', () => {
    const body = '{"messages":[{"role":"user","content":[{"text":"hé"}]}]}';
    const s = signV4({
      method: 'POST',
      host: 'bedrock-runtime.us-east-1.amazonaws.com',
      path: `/model/${encodeURIComponent('anthropic.claude-3-5-sonnet-20240620-v1:0')}/converse`,
      headers: { 'content-type': 'application/json' },
      body,
      region: 'us-east-1',
      service: 'bedrock',
      credentials: CREDS,
      now: NOW,
      contentSha256Header: true,
    });
    const lines = s.canonicalRequest.split('\n');
    expect(lines[1]).toBe('/model/anthropic.claude-3-5-sonnet-20240620-v1%253A0/converse');
    expect(lines[lines.length - 2]).toBe('content-type;host;x-amz-content-sha256;x-amz-date');
    // SHA-256 of the UTF-8 bytes, not of UTF-16 code units.
    expect(s.headers['x-amz-content-sha256']).toBe(lines[lines.length - 1]);
    expect(s.headers['x-amz-content-sha256']).toBe(
      signV4({ ...sameBody(body), now: NOW }).headers['x-amz-content-sha256'],
    );
    expect(s.headers.authorization).toMatch(/Credential=AKIDEXAMPLE\/20150830\/us-east-1\/bedrock\/aws4_request/);
  });

  it('helpers', () => {
    expect(amzDate(NOW)).toBe('20150830T123600Z');
    expect(uriEncode("a b!'()*~")).toBe('a%20b%21%27%28%29%2A~');
  });
});

function sameBody(body: string) {
  return {
    method: 'POST',
    host: 'h',
    path: '/',
    body: new TextEncoder().encode(body),
    region: 'r',
    service: 's',
    credentials: CREDS,
    contentSha256Header: true,
  };
}
