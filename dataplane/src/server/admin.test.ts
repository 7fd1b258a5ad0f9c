import { createAdminServer } from './admin.js';

describe('admin server', () => {
  it('serves GET and HEAD /metrics as Prometheus text, 405 for other methods, 404 for other paths', async () => {
    let text = '# TYPE x counter\nx 1\n';
    const admin = createAdminServer({ metricsText: () => text });
    const port = await admin.listen(0, '127.0.0.1');
    try {
      const url = `http://127.0.0.1:${port}`;
      const get = await fetch(`${url}/metrics?x=1`);
      expect(get.status).toBe(200);
      expect(get.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      expect(await get.text()).toBe(text);
      text = '# TYPE y gauge\ny 2\n';
      const head = await fetch(`${url}/metrics`, { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(head.headers.get('content-length')).toBe(String(text.length));
      const post = await fetch(`${url}/metrics`, { method: 'POST' });
      expect(post.status).toBe(405);
      expect(post.headers.get('allow')).toBe('GET, HEAD');
      const other = await fetch(`${url}/v1/chat/completions`);
      expect(other.status).toBe(404);
      expect(await other.text()).toContain('the admin port serves /metrics');
    } finally {
      await admin.close();
    }
  });

  it('answers 500 when the metrics cannot be encoded, and keeps serving', async () => {
    let fail = true;
    const admin = createAdminServer({
      metricsText: () => {
        if (fail) throw new Error('boom');
        return 'ok 1\n';
      },
    });
    const port = await admin.listen(0, '127.0.0.1');
    try {
      expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(500);
      fail = false;
      expect(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).toBe('ok 1\n');
    } finally {
      await admin.close();
    }
  });
});
