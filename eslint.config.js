// ESLint (flat config) for the browser code: the extension and the demo page. It needs only
// ESLint itself: `npx --yes eslint@9 extension host/web tests/js`. So the rules of
// `@eslint/js`'s recommended set that catch real mistakes, and the browser and WebExtension
// globals, are listed here rather than taken from other packages.

const recommended = Object.fromEntries(
  [
    'constructor-super', 'for-direction', 'getter-return', 'no-async-promise-executor',
    'no-case-declarations', 'no-class-assign', 'no-compare-neg-zero', 'no-cond-assign',
    'no-const-assign', 'no-constant-binary-expression', 'no-constant-condition',
    'no-control-regex', 'no-debugger', 'no-delete-var', 'no-dupe-args', 'no-dupe-class-members',
    'no-dupe-else-if', 'no-dupe-keys', 'no-duplicate-case', 'no-empty', 'no-empty-character-class',
    'no-empty-pattern', 'no-ex-assign', 'no-fallthrough', 'no-func-assign', 'no-global-assign',
    'no-import-assign', 'no-invalid-regexp', 'no-irregular-whitespace', 'no-loss-of-precision',
    'no-misleading-character-class', 'no-new-native-nonconstructor', 'no-nonoctal-decimal-escape',
    'no-obj-calls', 'no-octal', 'no-prototype-builtins', 'no-redeclare', 'no-regex-spaces',
    'no-self-assign', 'no-setter-return', 'no-shadow-restricted-names', 'no-sparse-arrays',
    'no-this-before-super', 'no-undef', 'no-unexpected-multiline', 'no-unreachable',
    'no-unsafe-finally', 'no-unsafe-negation', 'no-unsafe-optional-chaining',
    'no-unused-labels', 'no-unused-private-class-members', 'no-useless-backreference',
    'no-useless-catch', 'no-useless-escape', 'no-with', 'require-yield', 'use-isnan',
    'valid-typeof',
  ].map((rule) => [rule, 'error']),
);

const browser = Object.fromEntries(
  [
    'window', 'document', 'navigator', 'location', 'history', 'console', 'performance',
    'sessionStorage', 'localStorage', 'setTimeout', 'clearTimeout', 'setInterval',
    'clearInterval', 'requestAnimationFrame', 'structuredClone', 'fetch', 'URL',
    'URLSearchParams', 'WebSocket', 'Event', 'CustomEvent', 'KeyboardEvent',
    'MutationObserver', 'Image', 'Option', 'HTMLElement', 'HTMLInputElement', 'DOMException',
    'Blob', 'crypto',
  ].map((name) => [name, 'readonly']),
);

export default [
  {
    files: ['extension/**/*.js', 'host/web/**/*.js', 'tests/js/**/*.mjs'],
    rules: recommended,
  },
  {
    files: ['extension/**/*.js', 'host/web/**/*.js'],
    languageOptions: {
      ecmaVersion: 2024,
      sourceType: 'module',
      globals: { ...browser, chrome: 'readonly' },
    },
    rules: {
      'no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'prefer-const': 'error',
      'no-var': 'error',
      eqeqeq: ['error', 'always'],
    },
  },
  {
    // Content scripts are classic scripts: the page world's one has no chrome.* at all.
    files: ['extension/content/*.js'],
    languageOptions: { sourceType: 'script' },
  },
  {
    files: ['extension/content/ytmusic_page.js'],
    languageOptions: { globals: { ...browser } },
  },
  {
    files: ['tests/js/**/*.mjs'],
    languageOptions: {
      ecmaVersion: 2024,
      sourceType: 'module',
      globals: { console: 'readonly', structuredClone: 'readonly' },
    },
    rules: { 'no-unused-vars': 'error', 'prefer-const': 'error' },
  },
];
