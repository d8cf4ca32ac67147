import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'charts/**', '.cache/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  // The floors (ARCHITECTURE.md): commands on top (lib/<command>/), shared modules below (lib/*.ts),
  // nothing sideways, nothing from the tests.
  {
    files: ['lib/*/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['../*/**'],
              message:
                'a command folder imports only shared modules (lib/*.ts), never another command folder',
            },
            { group: ['**/test/**'], message: 'lib/ never imports from test/' },
          ],
        },
      ],
    },
  },
  {
    files: ['lib/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['./*/**'],
              message: 'a shared module never imports a command folder: move what both need down to lib/*.ts',
            },
            { group: ['**/test/**'], message: 'lib/ never imports from test/' },
          ],
        },
      ],
    },
  },
  {
    files: ['scripts/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/test/**'], message: 'scripts/ never import from test/' }] },
      ],
    },
  },
  {
    // The launcher is plain JavaScript (it runs before any TypeScript can be compiled) on Node.
    files: ['scripts/*.mjs'],
    languageOptions: { globals: { process: 'readonly' } },
  },
  {
    // Programs the simulated cluster runs as containers: plain Node scripts.
    files: ['test/kube-sim/fixtures/programs/*.mjs'],
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        fetch: 'readonly',
        setTimeout: 'readonly',
      },
    },
  },
);
