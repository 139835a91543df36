// Bundles the editor and compare pages into app/web/static/vendor/editor/ (git-ignored).
import * as esbuild from 'esbuild';
import { gzipSync } from 'node:zlib';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const outdir = join(root, 'app/web/static/vendor/editor');
const require = createRequire(join(root, 'package.json'));

// Rules of bpmnlint's recommended set that contradict how our diagrams are drawn for SpiffWorkflow:
// exclusive gateways that both join and fork, and rework loops back into a task, run correctly there.
const LINT_OVERRIDES = {
  'no-gateway-join-fork': 'off',
  'fake-join': 'off',
  'no-inclusive-gateway': 'off'
};

function lintConfigModule() {
  const recommended = require('bpmnlint/config/recommended.js');
  const rules = { ...recommended.rules, ...LINT_OVERRIDES };
  const active = Object.keys(rules).filter(name => rules[name] !== 'off');
  const imports = active.map((name, i) => `import rule${i} from 'bpmnlint/rules/${name}';`);
  const cache = active.map((name, i) => `'rule:bpmnlint/${name}': rule${i}`);
  const config = Object.fromEntries(active.map(name => [ name, rules[name] ]));
  return `${imports.join('\n')}
import StaticResolver from 'bpmnlint/lib/resolver/static-resolver';
export const config = { rules: ${JSON.stringify(config)} };
export const resolver = new StaticResolver({ ${cache.join(', ')} });
export default { config, resolver };
`;
}

// codemirror-json-schema validates with json-schema-library's Draft04, which knows neither
// $dynamicRef nor the 2020-12 vocabularies split over several files: inline them into one
// self-contained schema so that nothing is fetched and the keywords of the vocabularies apply.
function metaSchemaModule() {
  const base = dirname(require.resolve('ajv/lib/refs/json-schema-2020-12/schema.json'));
  const load = name => JSON.parse(readFileSync(join(base, name), 'utf8'));
  const top = load('schema.json');
  const defs = {};
  const rewrite = value => {
    if (Array.isArray(value)) return value.map(rewrite);
    if (value && typeof value === 'object') {
      if (value.$dynamicRef === '#meta') return { $ref: '#' };
      const out = {};
      for (const [ key, v ] of Object.entries(value)) {
        if (key === '$ref' && typeof v === 'string') out.$ref = v.replace(/^meta\/[a-z-]+#/, '#');
        else out[key] = rewrite(v);
      }
      return out;
    }
    return value;
  };
  const strip = schema => {
    const { $id, $schema, $vocabulary, $dynamicAnchor, $defs, $comment, title, allOf, ...rest } = schema;
    Object.assign(defs, $defs || {});
    return rest;
  };
  const parts = top.allOf.map(ref => strip(load(ref.$ref + '.json')));
  const own = strip(top);
  const flat = rewrite({ allOf: [ ...parts, own ], $defs: defs });
  return `export default ${JSON.stringify(flat)};`;
}

const virtualModules = {
  name: 'virtual-modules',
  setup(build) {
    const modules = {
      'virtual:bpmnlint-config': lintConfigModule,
      'virtual:json-schema-meta': metaSchemaModule
    };
    build.onResolve({ filter: /^virtual:/ }, args => ({ path: args.path, namespace: 'virtual' }));
    build.onLoad({ filter: /.*/, namespace: 'virtual' }, args => ({
      contents: modules[args.path](), loader: 'js', resolveDir: root
    }));

    // codemirror-json-schema renders messages with shiki, which instantiates WebAssembly (blocked by
    // our Content-Security-Policy) and weighs megabytes; our error messages are plain text.
    build.onResolve({ filter: /\/utils\/markdown(\.js)?$/ }, args =>
      args.importer.includes('codemirror-json-schema')
        ? { path: join(here, 'plain-markdown.js') }
        : undefined);
  }
};

rmSync(outdir, { recursive: true, force: true });

const result = await esbuild.build({
  absWorkingDir: root,
  entryPoints: { editor: 'frontend/editor.js', compare: 'frontend/compare.js', dmn: 'frontend/dmn.css' },
  outdir,
  bundle: true,
  format: 'esm',
  splitting: true,
  minify: true,
  sourcemap: false,
  target: [ 'es2020' ],
  chunkNames: 'chunks/[name]-[hash]',
  assetNames: 'assets/[name]-[hash]',
  loader: { '.woff': 'file', '.woff2': 'file', '.ttf': 'file', '.eot': 'file', '.svg': 'file' },
  define: { 'process.env.NODE_ENV': '"production"' },
  legalComments: 'linked',
  metafile: true,
  logLevel: 'warning',
  plugins: [ virtualModules ]
});

// Every key the sources pass to t() must be in texts.json, the list the server translates.
const known = JSON.parse(readFileSync(join(here, 'texts.json'), 'utf8'));
const keyPattern = /'((?:editor|compare|props|files|draft|deploy|preview|problems|timer|validate|api|dialog)\.[A-Za-z0-9_.]+)'/g;
const missing = new Set();
for (const file of readdirSync(here).filter(name => name.endsWith('.js'))) {
  for (const [ , key ] of readFileSync(join(here, file), 'utf8').matchAll(keyPattern)) if (!(key in known)) missing.add(key);
}
if (missing.size) console.warn(`texts.json lacks: ${[ ...missing ].join(', ')}`);

const outputs = result.metafile.outputs;
const rel = path => relative(outdir, join(root, path));
const gz = path => gzipSync(readFileSync(join(root, path)), { level: 9 }).length;
const kb = n => (n / 1024).toFixed(1).padStart(8) + ' KiB';

const sizes = {};
for (const path of Object.keys(outputs).sort()) {
  sizes[path] = { raw: statSync(join(root, path)).size, gzip: gz(path) };
  console.log(`${rel(path).padEnd(52)} ${kb(sizes[path].raw)} ${kb(sizes[path].gzip)} gzip`);
}

// What the editor page loads before any DMN file is opened: the entry, its static imports, its CSS.
function initialLoad(entry) {
  const seen = new Set();
  const visit = path => {
    if (seen.has(path)) return;
    seen.add(path);
    for (const imp of outputs[path].imports) if (imp.kind === 'import-statement' && !imp.external) visit(imp.path);
    const css = outputs[path].cssBundle;
    if (css) {
      seen.add(css);
      // Browsers fetch only the first font format they support, which is woff2 everywhere we run.
      for (const imp of outputs[css].imports) if (imp.path.endsWith('.woff2')) seen.add(imp.path);
    }
  };
  visit(entry);
  return [ ...seen ];
}

const editorEntry = Object.keys(outputs).find(p => rel(p) === 'editor.js');
const initial = initialLoad(editorEntry);
const total = initial.reduce((sum, p) => sum + sizes[p].gzip, 0);
console.log(`editor page initial load: ${initial.length} files, ${kb(total).trim()} gzip`);
if (total > 2 * 1024 * 1024) {
  console.error('the editor page initial load exceeds 2 MB gzipped');
  process.exit(1);
}
