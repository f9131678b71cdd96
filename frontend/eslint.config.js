// Lint for the front end: `npm run lint` (and `make lint`). Besides the usual TypeScript and React-hooks
// rules, it enforces the layering DESIGN.md describes (bulletproof-react):
//   pages      may import components, hooks, services and lib
//   components may import other components, hooks, services and lib, never pages
//   hooks      may import services and lib, never components or pages
//   services   (API modules, query hooks, types) may import lib, never components, hooks or pages
//   lib        (pure helpers) imports only lib, plus the API's types (data shapes, no behaviour)
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import globals from 'globals';

const zone = (target, from, message, except = []) => ({ target, from, message, except });

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'src/services/schema.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { 'react-hooks': reactHooks, 'import-x': importX },
    // Imports are relative with extensions left out: the node resolver finds the .ts/.tsx file.
    settings: { 'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.tsx', '.d.ts', '.js', '.json'] })] },
    rules: {
      'react-hooks/rules-of-hooks': 'error',
      'react-hooks/exhaustive-deps': 'error',
      // `_name` marks a deliberately unused binding (e.g. a field taken out of an object with rest).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      'import-x/no-restricted-paths': [
        'error',
        {
          basePath: import.meta.dirname,
          zones: [
            zone('./src/components', './src/pages', 'Components are reusable: they never import a page.'),
            zone('./src/hooks', './src/pages', 'Hooks never import a page.'),
            zone('./src/hooks', './src/components', 'Hooks never import a component.'),
            zone('./src/services', './src/pages', 'The data layer never imports a page.'),
            zone('./src/services', './src/components', 'The data layer never imports a component.'),
            zone('./src/services', './src/hooks', 'The data layer never imports a UI hook.'),
            zone('./src/lib', './src', 'lib holds pure helpers: it imports only lib (and the API types).', [
              './lib',
              './services/types.ts',
              './services/schema.d.ts',
            ]),
          ],
        },
      ],
    },
  },
  {
    // The UI reads and writes through the feature modules' hooks (services/<feature>.api.ts), which own the
    // query keys and what a change invalidates.
    files: ['src/pages/**', 'src/components/**', 'src/hooks/**', 'src/lib/**'],
    ignores: ['**/*.test.{ts,tsx}'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: '@tanstack/react-query',
              importNames: ['useQuery', 'useQueries', 'useMutation', 'useQueryClient', 'useSuspenseQuery', 'useInfiniteQuery'],
              message: "Use (or add) the feature's hook in services/<feature>.api.ts.",
            },
            {
              name: '../services/api',
              importNames: ['fetchAPI', 'authorizedFetch'],
              message: "Call the API through a fetcher or hook in services/<feature>.api.ts.",
            },
          ],
        },
      ],
    },
  },
  {
    // Tests and fixtures render pages inside providers and stub the network: the layering is for the app.
    files: ['src/test/**', '**/*.test.{ts,tsx}'],
    rules: { 'import-x/no-restricted-paths': 'off' },
  },
  {
    files: ['*.{js,mjs}', 'scripts/**/*.{js,mjs}'],
    languageOptions: { globals: { ...globals.node } },
  },
);
