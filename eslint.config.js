import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  globalIgnores(['dist/', 'node_modules/', 'bench/results/', 'logs/', 'public/', 'ecosystem.config.cjs']),
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    extends: [tseslint.configs.disableTypeChecked],
  },
  {
    // The dashboard's script runs in the browser (tsconfig.browser.json checks its types): the
    // browser globals it uses, and no Node.js ones.
    files: ['src/dashboard/assets/**/*.js'],
    languageOptions: {
      globals: { document: 'readonly', window: 'readonly', EventSource: 'readonly', fetch: 'readonly' },
    },
  },
);
