import {
  Controller,
  Get,
  Module,
  Param,
  Post,
  UseGuards,
  type INestApplication,
} from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { AccessTokenGuard, AuthModule, OptionalAuth, Public, Scopes } from '../../lib';
import { applyAuthToOpenApi, scopeAlternatives } from '../../lib/openapi/auth-openapi';
import { createPlatformApp } from '../support/create-fixture-app';
import { KeyServer } from '../support/key-server';

@Controller('messages')
class MessagesController {
  @Public()
  @Get('public')
  open() {
    return { ok: true };
  }

  @Get('private')
  private() {
    return { ok: true };
  }

  @Scopes('read:messages')
  @Get('scoped')
  scoped() {
    return { ok: true };
  }

  @Scopes.any('read:messages', 'admin')
  @Get('any')
  any() {
    return { ok: true };
  }

  @OptionalAuth()
  @Get('optional')
  optional() {
    return { ok: true };
  }

  @Scopes('write:messages')
  @Post(':id')
  update(@Param('id') id: string) {
    return { id };
  }
}

/** Class and handler scopes add up: write:admin and one of a or b. */
@Scopes('write:admin')
@Controller('admin')
class AdminController {
  @Scopes.any('a', 'b')
  @Get()
  list() {
    return [];
  }
}

/** With `globalGuard: false`: only the routes under `@UseGuards(AccessTokenGuard)` need a token. */
@Controller('mixed')
class MixedController {
  @Get('open')
  open() {
    return { ok: true };
  }

  @UseGuards(AccessTokenGuard)
  @Get('guarded')
  guarded() {
    return { ok: true };
  }
}

describe('applyAuthToOpenApi (nest-oauth2-bearer/swagger)', () => {
  let keyServer: KeyServer;
  let app: INestApplication;
  let document: OpenAPIObject;

  beforeAll(async () => {
    keyServer = await KeyServer.start();
    @Module({
      imports: [AuthModule.forRoot({ issuerUrl: keyServer.issuer, audience: keyServer.audience })],
      controllers: [MessagesController, AdminController],
    })
    class AppModule {}
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    app = moduleRef.createNestApplication();
    app.setGlobalPrefix('api');
    await app.init();
    // As the README shows it.
    const config = new DocumentBuilder().setTitle('Messages').build();
    document = SwaggerModule.createDocument(app, config);
    applyAuthToOpenApi(document, app);
  });

  afterAll(async () => {
    await app.close();
    await keyServer.stop();
  });

  const operation = (method: 'get' | 'post', path: string) => document.paths[path][method]!;

  it('adds a bearer scheme and the error body schema to the components', () => {
    expect(document.components?.securitySchemes?.bearerAuth).toMatchObject({
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
    });
    expect(document.components?.schemas?.AuthErrorBody).toMatchObject({
      required: ['statusCode', 'error', 'message', 'reason'],
    });
  });

  it('gives each route the security requirement its decorators ask for', () => {
    expect(operation('get', '/api/messages/public').security).toBeUndefined();
    expect(operation('get', '/api/messages/private').security).toEqual([{ bearerAuth: [] }]);
    expect(operation('get', '/api/messages/scoped').security).toEqual([
      { bearerAuth: ['read:messages'] },
    ]);
    expect(operation('get', '/api/messages/any').security).toEqual([
      { bearerAuth: ['read:messages'] },
      { bearerAuth: ['admin'] },
    ]);
    expect(operation('get', '/api/messages/optional').security).toEqual([{}, { bearerAuth: [] }]);
    expect(operation('post', '/api/messages/{id}').security).toEqual([
      { bearerAuth: ['write:messages'] },
    ]);
    expect(operation('get', '/api/admin').security).toEqual([
      { bearerAuth: ['a', 'write:admin'] },
      { bearerAuth: ['b', 'write:admin'] },
    ]);
  });

  it('documents 401 on guarded routes and 403 where scopes are required, with the error body and challenge', () => {
    const scoped = operation('get', '/api/messages/scoped').responses;
    for (const status of ['401', '403']) {
      expect(scoped[status]).toMatchObject({
        headers: { 'WWW-Authenticate': { schema: { type: 'string' } } },
        content: {
          'application/json': { schema: { $ref: '#/components/schemas/AuthErrorBody' } },
        },
      });
    }
    expect(scoped['403']).toMatchObject({
      description: expect.stringContaining('read:messages'),
      content: {
        'application/json': { example: { statusCode: 403, error: 'insufficient_scope' } },
      },
    });
    expect(scoped['503']).toMatchObject({ headers: { 'Retry-After': expect.any(Object) } });
    const privateRoute = operation('get', '/api/messages/private').responses;
    expect(Object.keys(privateRoute).sort()).toEqual(['200', '401', '503']);
    expect(Object.keys(operation('get', '/api/messages/public').responses)).toEqual(['200']);
    // An optional route still refuses a bad token.
    expect(operation('get', '/api/messages/optional').responses['401']).toBeDefined();
  });

  it('documents the answers the guard gives', async () => {
    const server = app.getHttpServer();
    for (const [path, item] of Object.entries(document.paths)) {
      const url = path.replace('{id}', '1');
      const get = item.get ?? item.post!;
      const call = item.get ? request(server).get(url) : request(server).post(url);
      const res = await call;
      expect(Object.keys(get.responses)).toContain(String(res.status));
      // A 401 names the scopes the route requires (documented as its security requirements).
      const scopes = [
        ...new Set(
          (get.security ?? []).flatMap((requirement) => Object.values(requirement).flat()),
        ),
      ];
      const named =
        scopes.length > 0 ? `realm="api", scope="${scopes.sort().join(' ')}",` : 'realm="api",';
      const sorted = (header: string) =>
        header.replace(
          /scope="([^"]*)"/g,
          (_, list: string) => `scope="${list.split(' ').sort().join(' ')}"`,
        );
      if (res.status === 401)
        expect(sorted(res.headers['www-authenticate'])).toBe(
          keyServer.bareChallenge.replaceAll('realm="api",', named),
        );
    }
  });

  it('leaves the user document alone beyond that, and the controllers unmarked', () => {
    const again = SwaggerModule.createDocument(app, new DocumentBuilder().build());
    expect(JSON.stringify(again)).not.toContain('x-nest-oauth2-bearer');
    expect(again.paths['/api/messages/private'].get!.security).toBeUndefined();
    expect(JSON.stringify(document)).not.toContain('x-nest-oauth2-bearer');
  });

  it('removes the requirement of public routes when the document sets a global one', () => {
    const config = new DocumentBuilder().addSecurityRequirements('bearerAuth').build();
    const withGlobal = applyAuthToOpenApi(SwaggerModule.createDocument(app, config), app);
    expect(withGlobal.paths['/api/messages/public'].get!.security).toEqual([]);
  });

  it('uses the issuer discovery document with scheme openIdConnect', () => {
    const oidc = applyAuthToOpenApi(
      SwaggerModule.createDocument(app, new DocumentBuilder().build()),
      app,
      { scheme: 'openIdConnect', schemeName: 'oidc' },
    );
    expect(oidc.components?.securitySchemes?.oidc).toEqual({
      type: 'openIdConnect',
      openIdConnectUrl: `${keyServer.issuer}.well-known/openid-configuration`,
      description: expect.any(String),
    });
    expect(oidc.paths['/api/messages/scoped'].get!.security).toEqual([{ oidc: ['read:messages'] }]);
  });

  it('finds the routes with the options given to createDocument, and says so when they differ', () => {
    const options = { ignoreGlobalPrefix: true };
    const unprefixed = SwaggerModule.createDocument(app, new DocumentBuilder().build(), options);
    expect(() => applyAuthToOpenApi(structuredClone(unprefixed), app)).toThrow(
      /Pass the SwaggerDocumentOptions/,
    );
    applyAuthToOpenApi(unprefixed, app, { documentOptions: options });
    expect(unprefixed.paths['/messages/private'].get!.security).toEqual([{ bearerAuth: [] }]);
  });
});

describe('applyAuthToOpenApi with globalGuard: false', () => {
  it('requires a token only where AccessTokenGuard is used', async () => {
    const keyServer = await KeyServer.start();
    @Module({
      imports: [
        AuthModule.forRoot({
          issuerUrl: keyServer.issuer,
          audience: keyServer.audience,
          globalGuard: false,
        }),
      ],
      controllers: [MixedController],
    })
    class MixedModule {}
    const moduleRef = await Test.createTestingModule({ imports: [MixedModule] }).compile();
    const app = await createPlatformApp(moduleRef);
    try {
      const document = applyAuthToOpenApi(
        SwaggerModule.createDocument(app, new DocumentBuilder().build()),
        app,
      );
      expect(document.paths['/mixed/open'].get!.security).toBeUndefined();
      expect(document.paths['/mixed/guarded'].get!.security).toEqual([{ bearerAuth: [] }]);
    } finally {
      await app.close();
      await keyServer.stop();
    }
  });
});

describe('applyAuthToOpenApi without AuthModule', () => {
  it('says what is missing', async () => {
    @Controller('plain')
    class PlainController {
      @Get()
      get() {
        return { ok: true };
      }
    }
    @Module({ controllers: [PlainController] })
    class NoAuthModule {}
    const moduleRef = await Test.createTestingModule({ imports: [NoAuthModule] }).compile();
    const app = await createPlatformApp(moduleRef);
    try {
      const document = SwaggerModule.createDocument(app, new DocumentBuilder().build());
      expect(() => applyAuthToOpenApi(document, app)).toThrow(/AuthModule is not part of this app/);
    } finally {
      await app.close();
    }
  });
});

describe('scopeAlternatives', () => {
  it('combines every "all" requirement with one choice of each "any" requirement', () => {
    expect(scopeAlternatives([])).toEqual([[]]);
    expect(
      scopeAlternatives([
        { mode: 'any', scopes: ['a', 'b'] },
        { mode: 'all', scopes: ['c'] },
        { mode: 'any', scopes: ['a', 'd'] },
      ]),
    ).toEqual([
      ['a', 'c'],
      ['a', 'c', 'd'],
      ['b', 'c', 'a'],
      ['b', 'c', 'd'],
    ]);
  });
});
