// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The layers of src/ (docs/architecture-notes.md#layout, the section "Layout"): each folder may import itself and
 * the folders listed for it, nothing else — so an upward import, and with it every folder-level
 * import cycle, fails lint. src/errors.ts and src/log.ts sit in the bottom layer with lib/;
 * src/config.ts and src/app.ts are the top (they assemble every subsystem).
 *
 *   lib < protocol, actors < graph < routing, replication, cluster, seeder, store < server < transport < cli
 *
 * (routing/reference may import routing, not the other way round; cluster/native — deployment
 * tooling that starts whole route-server processes — sits at the top with cli.)
 */
const BELOW_SUBSYSTEMS = ['lib', 'protocol', 'actors', 'graph'];
const SUBSYSTEMS = ['routing', 'reference', 'replication', 'cluster', 'seeder', 'store'];
const LAYERS = [
  { files: ['src/errors.ts', 'src/log.ts', 'src/lib/**'], mayImport: ['lib'] },
  { files: ['src/protocol/**'], mayImport: ['lib', 'protocol'] },
  { files: ['src/actors/**'], mayImport: ['lib', 'actors'] },
  { files: ['src/graph/**'], mayImport: ['lib', 'protocol', 'graph'] },
  { files: ['src/routing/*.ts'], mayImport: [...BELOW_SUBSYSTEMS, 'routing'] },
  { files: ['src/routing/reference/**'], mayImport: [...BELOW_SUBSYSTEMS, 'routing', 'reference'] },
  { files: ['src/replication/**'], mayImport: [...BELOW_SUBSYSTEMS, 'replication'] },
  { files: ['src/cluster/*.ts'], mayImport: [...BELOW_SUBSYSTEMS, 'cluster'] },
  { files: ['src/seeder/**'], mayImport: [...BELOW_SUBSYSTEMS, 'seeder'] },
  { files: ['src/store/**'], mayImport: [...BELOW_SUBSYSTEMS, 'store'] },
  { files: ['src/server/**'], mayImport: [...BELOW_SUBSYSTEMS, ...SUBSYSTEMS, 'server'] },
  {
    files: ['src/transport/**'],
    mayImport: [...BELOW_SUBSYSTEMS, ...SUBSYSTEMS, 'server', 'transport'],
  },
  // the top: assembles everything (may import config.ts and app.ts too)
  {
    files: ['src/cli/**', 'src/cluster/native/**'],
    mayImport: [...BELOW_SUBSYSTEMS, ...SUBSYSTEMS, 'server', 'transport', 'native', 'cli'],
    top: true,
  },
];
const ALL_FOLDERS = [...BELOW_SUBSYSTEMS, ...SUBSYSTEMS, 'native', 'server', 'transport', 'cli'];
/** packages the pure layers must not reach for (I/O belongs higher up) */
const PURE_LAYER_PACKAGES = [
  'nact',
  'ws',
  'ioredis',
  'node:http',
  'node:dgram',
  'node:net',
  'node:fs',
];

const layerRules = LAYERS.map(({ files, mayImport, top }) => {
  const forbidden = ALL_FOLDERS.filter((f) => !mayImport.includes(f));
  const pure = files.some((f) => f.startsWith('src/protocol') || f.startsWith('src/graph'));
  return {
    files,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...(forbidden.length > 0
              ? [
                  {
                    regex: `(^|/)(${forbidden.join('|')})/`,
                    message: `upward or sideways import: ${files[0]} may import only ${mayImport.join(', ')} (eslint.config.js, docs/architecture-notes.md#layout)`,
                  },
                ]
              : []),
            ...(top
              ? []
              : [
                  {
                    regex: '^(\\.\\./)+(config|config-[a-z]+|app)\\.ts$',
                    message:
                      'config.ts and app.ts are the top layer: pass settings and collaborators down instead',
                  },
                ]),
            ...(pure
              ? [
                  {
                    group: PURE_LAYER_PACKAGES,
                    message: 'protocol and graph are pure: no I/O packages',
                  },
                ]
              : []),
          ],
        },
      ],
    },
  };
});

export default tseslint.config(
  { ignores: ['node_modules/**', 'coverage/**', 'dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { require: 'readonly', module: 'writable', process: 'readonly' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  // plain JavaScript run by Node before anything is compiled (bin/snode.js, the build helper)
  {
    files: ['**/*.mjs', 'bin/*.js'],
    languageOptions: { globals: { process: 'readonly', URL: 'readonly' } },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: 'ExportDefaultDeclaration', message: 'use named exports' },
      ],
    },
  },
  ...layerRules,
);
