// ESLint flat config: eslint:recommended + typescript-eslint's recommended set (syntax only, no type-checked
// rules, so it stays fast). Formatting is prettier's job; neither set has formatting rules to clash with it.
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig([
  globalIgnores(['dist/', 'node_modules/', 'coverage/', 'bench-out/']),
  {
    files: ['src/**/*.ts', '__tests__/**/*.{ts,mjs}', 'scripts/**/*.mjs', 'bin/*.js', '*.config.js'],
    extends: [js.configs.recommended, tseslint.configs.recommended],
    languageOptions: { globals: globals.node },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      // Control characters are matched on purpose (e.g. the ANSI escape in /\x1b\[/).
      'no-control-regex': 'off',
    },
  },
]);
