import { clientErrorOf } from './listener.js';

describe('clientErrorOf: the coded error for a request Node could not parse', () => {
  it.each([
    ['HPE_HEADER_OVERFLOW', 'headers_too_large', 431],
    ['ERR_HTTP_REQUEST_TIMEOUT', 'request_timeout', 408],
    ['ERR_HTTP_HEADERS_TIMEOUT', 'request_timeout', 408],
    ['HPE_INVALID_METHOD', 'bad_http_request', 400],
    ['HPE_INVALID_HEADER_TOKEN', 'bad_http_request', 400],
    [undefined, 'bad_http_request', 400],
  ])('%s → %s (%i)', (code, expected, status) => {
    const err = Object.assign(new Error('parse error'), code === undefined ? {} : { code });
    const ge = clientErrorOf(err);
    expect(ge.code).toBe(expected);
    expect(ge.status).toBe(status);
    expect(ge.cause).toBe(err);
  });
});
