import { countHeaders, httpTokenSource } from './http.face';

describe('countHeaders', () => {
  it('counts every header of the name, whatever its case, and only names (not values)', () => {
    const raw = [
      'Authorization',
      'Bearer a',
      'x-other',
      'authorization',
      'AUTHORIZATION',
      'Bearer b',
    ];
    expect(countHeaders(raw, 'authorization')).toBe(2);
    expect(countHeaders([], 'authorization')).toBe(0);
  });

  it('assumes one header when the raw list is unknown (a request built by hand)', () => {
    expect(countHeaders(undefined, 'authorization')).toBe(1);
  });
});

describe('httpTokenSource', () => {
  it('reads the query token only when query tokens are allowed', () => {
    const request = { headers: {}, query: { access_token: 'from-query' } };
    expect(httpTokenSource(request, true)).toEqual({
      authorization: undefined,
      authorizationHeaders: 0,
      queryToken: 'from-query',
    });
    expect(httpTokenSource(request, false).queryToken).toBeUndefined();
  });

  it("counts repeated headers in Fastify's raw request", () => {
    const request = {
      headers: { authorization: 'Bearer a' },
      raw: { rawHeaders: ['authorization', 'Bearer a', 'Authorization', 'Bearer b'] },
    };
    expect(httpTokenSource(request, false).authorizationHeaders).toBe(2);
  });
});
