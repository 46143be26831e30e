import express from 'express';
import { auth } from 'express-oauth2-jwt-bearer';
import { benchEnv, reportMemoryOnRequest } from './report-memory';

/** Auth0's official Express middleware, express-oauth2-jwt-bearer, on plain Express. */
const { issuer, audience, port } = benchEnv();
const app = express();
const checkJwt = auth({ issuerBaseURL: issuer, audience });
app.get('/public', (_req, res) => {
  res.json({ ok: true });
});
app.get('/private', checkJwt, (_req, res) => {
  res.json({ ok: true });
});
app.use(
  (_error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(401).json({ error: 'invalid_token' });
  },
);
app.listen(port, '127.0.0.1', () => {
  reportMemoryOnRequest();
  process.send?.('ready');
});
