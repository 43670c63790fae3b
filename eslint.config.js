// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'coverage/**', 'dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable', process: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': ['error', { selector: 'ExportDefaultDeclaration', message: 'use named exports' }],
    },
  },
  {
    files: ['src/protocol/**/*.ts', 'src/graph/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: ['**/actors/**', '**/transport/**', 'nact', 'ws', 'ioredis', 'node:http', 'node:dgram', 'node:net', 'node:fs'],
      }],
    },
  },
);
