import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { createFixtureApp, PLATFORMS } from '../support/create-fixture-app';
import { prng } from '../support/prng';
import { generateKey, KeyServer, signRaw, type TestKey } from '../support/key-server';

const ODD = [
  '.',
  '..',
  '=',
  '+',
  '/',
  '-',
  '_',
  '~',
  ' ',
  '%00',
  'é',
  '\u202e',
  '"',
  '\\',
  'eyJ',
  '{',
  '}',
];
const enc = (v: unknown) =>
  Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

/** Few hundred mutated and hostile tokens: the answer is always a 4xx, never a 5xx or a 200. */
describe.each(PLATFORMS)('mutated tokens (fuzz) (%s)', (platform) => {
  const SEED = Number(process.env.FUZZ_SEED ?? 20261126);
  let ks: KeyServer;
  let app: INestApplication;

  beforeAll(async () => {
    ks = await KeyServer.start();
    ks.keys.push(generateKey('ES256'), generateKey('PS256'));
    app = await createFixtureApp({ issuerUrl: ks.issuer, audience: ks.audience }, { platform });
  });

  afterAll(async () => {
    await app.close();
    await ks.stop();
  });

  /** Tokens correctly signed by the issuer's key (with hostile claims): they may pass, if valid. */
  const signedByIssuer = new Set<string>();

  function mutants(count: number, seed: number, key: TestKey, valid: string): string[] {
    const random = prng(seed);
    const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)];
    const [h, p, s] = valid.split('.');
    const hostileJson = [
      '{"alg":"RS256","kid":' + '['.repeat(5000) + ']'.repeat(5000) + '}',
      `{"alg":"RS256","alg":"none","kid":"${ks.key.kid}"}`,
      `{"alg":256,"kid":"${ks.key.kid}"}`,
      '{"alg":"RS256","kid":"' + 'k'.repeat(4000) + '"}',
      '[]',
      'null',
      '"RS256"',
      '{"__proto__":{"alg":"RS256"}}',
      `{"alg":"RS256","kid":"${ks.key.kid}","constructor":{"prototype":{"admin":true}}}`,
    ];
    const operations: Array<() => string> = [
      () => {
        const i = Math.floor(random() * valid.length);
        return valid.slice(0, i) + pick(ODD) + valid.slice(i + 1);
      },
      () => valid.slice(0, Math.floor(random() * valid.length)),
      () => [p, h, s].join('.'),
      () => [h, s, p].join('.'),
      () => `${enc(pick(hostileJson))}.${p}.${s}`,
      () => `${h}.${enc(pick(hostileJson))}.${s}`,
      () => signRaw({ alg: key.alg, kid: key.kid }, pick(hostileJson), key.privateKey),
      () =>
        `${h}.${p}.${Buffer.from(s, 'base64url')
          .subarray(0, Math.floor(random() * 80))
          .toString('base64url')}`,
      () => {
        const token = ks.token(
          {
            [pick(['exp', 'nbf', 'iss', 'aud', 'sub', 'scope', 'scp', 'permissions', 'iat'])]: pick(
              ['1', -1, 1e308, null, [], {}, true, ['x', 1], 'x'.repeat(1000)],
            ),
            ...(random() < 0.2 ? { exp: 'tomorrow' } : {}),
          },
          {},
          key,
        );
        signedByIssuer.add(token);
        return token;
      },
      () => `${h}.${p}.${s}${pick(ODD)}`,
      () =>
        Array.from({ length: 1 + Math.floor(random() * 6) }, () => pick([h, p, s, ''])).join('.'),
      () => `${h}.${p}.${Buffer.from(s, 'base64url').reverse().toString('base64url')}`,
    ];
    return Array.from({ length: count }, () => pick(operations)());
  }

  it.each([0, 1, 2])(
    'never answers 5xx, nor accepts a forged token (seed +%i, RS/ES/PS)',
    async (round) => {
      const seed = SEED + round;
      const key = ks.keys[round];
      const valid = ks.token({}, {}, key);
      const sameBytes = (a: string, b: string) =>
        a.split('.').length === 3 &&
        a
          .split('.')
          .every((seg, i) =>
            Buffer.from(seg, 'base64url').equals(Buffer.from(b.split('.')[i], 'base64url')),
          );
      const tokens = mutants(400, seed, key, valid);
      const statuses = new Map<number, number>();
      for (const token of tokens) {
        const res = await request(app.getHttpServer())
          .get('/scoped')
          .set('Authorization', `Bearer ${encodeURI(token).slice(0, 12000)}`);
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (
          res.status >= 500 ||
          (res.status === 200 && !sameBytes(token, valid) && !signedByIssuer.has(token))
        ) {
          throw new Error(
            `seed ${seed}: ${res.status} for ${token
              .split('.')
              .slice(0, 2)
              .map((x) => Buffer.from(x, 'base64url').toString().slice(0, 300))
              .join(' . ')}: ${JSON.stringify(res.body)}`,
          );
        }
        expect([200, 400, 401, 403]).toContain(res.status);
      }
      // The corpus exercises both the syntax checks (400) and the verification (401).
      expect(statuses.get(400)).toBeGreaterThan(10);
      expect(statuses.get(401)).toBeGreaterThan(100);
      expect(statuses.get(500)).toBeUndefined();
    },
  );
});
