// The layers of lib/, each importing only those below it (CONTRIBUTING.md, "Layers"). Type-only
// imports count: a type a lower layer takes from a higher one ties them just the same.
// `npm run check:layers` runs it; `npm test` runs that.

/** A folder of lib/ as a path pattern. */
const folder = (...names) => `^lib/(${names.join('|')})/`;

/** The Nest glue: lib's top-level files, the Nest parts and the subpath entries. */
const GLUE = [
  '^lib/[^/]+[.]ts$',
  folder('guards', 'decorators', 'strategies', 'websockets', 'openapi', 'health', 'testing', 'peers'),
  // RFC 9728: its controller and document service are glue; its options are a component's.
  '^lib/resource-metadata/protected-resource([.]controller|-metadata)[.]ts$',
];
/** RFC 9728's options and URL rules: a component's options, as pure as the issuer's. */
const RESOURCE_OPTIONS = '^lib/resource-metadata/(protected-resource-options|resource-metadata-url)[.]ts$';

/** Each layer, and every lib path it may import besides its own folder. */
const LAYERS = [
  { name: 'errors', from: folder('errors'), may: [] },
  { name: 'token', from: folder('token'), may: [folder('errors')] },
  { name: 'cache', from: folder('cache'), may: [folder('token', 'errors')] },
  { name: 'mcp', from: folder('mcp'), may: [folder('token', 'errors')] },
  { name: 'issuer', from: folder('issuer'), may: [folder('token', 'errors')] },
  { name: 'resource-options', from: RESOURCE_OPTIONS, may: [folder('issuer', 'token', 'errors'), RESOURCE_OPTIONS] },
  { name: 'opaque', from: folder('opaque'), may: [folder('issuer', 'cache', 'token', 'errors')] },
  { name: 'binding', from: folder('binding'), may: [folder('cache', 'token', 'errors')] },
  {
    name: 'verifier',
    from: folder('verifier'),
    may: [folder('binding', 'opaque', 'issuer', 'cache', 'token', 'errors')],
  },
  {
    name: 'options',
    from: folder('options'),
    may: [folder('binding', 'opaque', 'issuer', 'cache', 'token', 'errors'), RESOURCE_OPTIONS],
  },
  {
    name: 'contexts',
    from: folder('contexts'),
    may: [folder('verifier', 'binding', 'token', 'errors')],
  },
];

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import cycle ties its modules into one: break it by moving the shared part down.',
      from: { path: '^lib/' },
      to: { circular: true },
    },
    ...LAYERS.map(({ name, from, may }) => ({
      name: `layer-${name}`,
      severity: 'error',
      comment: `${name} imports only the layers below it (see CONTRIBUTING.md, "Layers").`,
      from: { path: from },
      to: { path: '^lib/', pathNot: [from, ...may] },
    })),
  ],
  options: {
    // TypeScript 7 has no compiler API for dependency-cruiser; SWC parses TypeScript and keeps
    // type-only imports (tsPreCompilationDeps), so that they count.
    parser: 'swc',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '[.]spec[.]ts$' },
  },
};
