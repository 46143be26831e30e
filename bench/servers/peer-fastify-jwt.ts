import Fastify from 'fastify';
import fastifyJwt from '@fastify/jwt';
import buildGetJwks from 'get-jwks';
import { benchEnv, reportMemoryOnRequest } from './report-memory';

/**
 * The fastest peer a Fastify user would pick: @fastify/jwt (fast-jwt, by nearform) with get-jwks,
 * as get-jwks's README wires them (its async secret form), with fast-jwt's verified-token cache on (its README: "when
 * enabled the performance is dramatically improved"; 1000 tokens), the issuer and audience checked.
 */
const { issuer, audience, port } = benchEnv();
const app = Fastify();
const getJwks = buildGetJwks({ issuersWhitelist: [issuer] });
void app.register(fastifyJwt, {
  decode: { complete: true },
  secret: async (_request: unknown, token: unknown) => {
    const { header, payload } = token as {
      header: { kid: string; alg: string };
      payload: { iss: string };
    };
    return getJwks.getPublicKey({ kid: header.kid, domain: payload.iss, alg: header.alg });
  },
  verify: { allowedIss: issuer, allowedAud: audience, algorithms: ['RS256'], cache: true },
});
app.get('/public', async () => ({ ok: true }));
app.get(
  '/private',
  {
    onRequest: async (request) => {
      await request.jwtVerify();
    },
  },
  async () => ({ ok: true }),
);
app.listen({ port, host: '127.0.0.1' }).then(() => {
  reportMemoryOnRequest();
  process.send?.('ready');
});
