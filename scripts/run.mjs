// @ts-check
/**
 * The entry of every `npm run <command>`: `node -- scripts/run.mjs <script> [args...]` runs
 * scripts/<script>.ts in this process.
 *
 * esbuild compiles the script, the lib/ modules it imports and the packages they use into one ES
 * module, kept in node_modules/.cache/taskflow/ with a manifest of the content hash of every file that
 * went into it. A later start re-hashes those files (a few ms) and, when none changed, imports the
 * compiled module directly; an edited source (or an updated package) triggers a rebuild first. One
 * file instead of hundreds of modules compiled or resolved on each start is what makes the commands
 * start in a fraction of the time a TypeScript loader needs: it matters most for `npm run validate`
 * and for CI.
 *
 * A module that reads `import.meta.url` gets its own source file's URL, as it would unbundled (the
 * chart is found relative to lib/). Dynamic imports with a computed name (the optional
 * kubernetes-models schemas) stay ordinary imports from node_modules.
 *
 * Why `node --` in package.json: Node 20 reads `--env-file` anywhere on its command line unless `--`
 * ends its own options, so `npm run validate -- --env-file missing.env` would otherwise exit with
 * Node's error (9) instead of the suite's usage error (2).
 *
 * Falls back to compiling on the fly (tsx) when the cache folder cannot be written.
 */
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Bumped when the way bundles are built changes, so older caches are rebuilt. */
const FORMAT = 2;
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SCRIPTS = path.join(ROOT, 'scripts');
const CACHE = process.env.TASKFLOW_BUILD_CACHE ?? path.join(ROOT, 'node_modules', '.cache', 'taskflow');
/** Stands for `import.meta.url` in the bundle; each module declares its own (its source file's URL). */
const META_URL = '__taskflow_source_url';
/** Stands for CommonJS `__filename` (write-file-atomic reads it), which an ES module bundle lacks. */
const FILENAME = '__taskflow_source_file';

/** @param {string} text */
const sha256 = (text) => createHash('sha256').update(text).digest('hex');

/**
 * What identifies a file's version in the manifest: the content hash of the repository's own sources;
 * for files under node_modules (hundreds, rewritten only by npm) their size and modification time.
 * @param {string} rel path relative to the repository
 * @param {string} [text] the content when already read
 */
function signature(rel, text) {
  if (rel.split(path.sep).includes('node_modules')) {
    const st = statSync(path.join(ROOT, rel));
    return `${st.size}:${st.mtimeMs}`;
  }
  return sha256(text ?? readFileSync(path.join(ROOT, rel), 'utf8'));
}

/**
 * Not started through here: `npm run sim` runs the simulated cluster of test/ (its worker thread loads
 * TypeScript itself, and it uses packages made for tests), so it stays on the tsx loader.
 */
const NOT_BUNDLED = new Set(['sim']);

/** The commands that can be started: the .ts files of scripts/. */
function scriptNames() {
  return readdirSync(SCRIPTS)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => f.slice(0, -3))
    .filter((n) => !NOT_BUNDLED.has(n))
    .sort();
}

/**
 * The manifest of a built bundle, when it is still the compilation of the sources as they are now.
 * @param {string} manifestPath
 * @returns {boolean}
 */
function isFresh(manifestPath) {
  /** @type {{ format: number, node: string, inputs: Record<string, string> }} */
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch {
    return false;
  }
  if (manifest.format !== FORMAT || manifest.node !== process.versions.node) return false;
  try {
    return Object.entries(manifest.inputs).every(([rel, sig]) => signature(rel, undefined) === sig);
  } catch {
    return false; // a file went away
  }
}

/**
 * Compiles scripts/<name>.ts with everything it imports into one module, in memory.
 * @param {string} name
 * @param {string} bundlePath where the module will be written (its source map is named after it)
 */
async function compile(name, bundlePath) {
  const esbuild = await import('esbuild');
  /** @type {Record<string, string>} */
  const inputs = {};
  // esbuild works in a service process of its own: stopped once the build is done (or failed), so a
  // long-running command (port-forward) does not keep it for hours.
  const result = await esbuild
    .build({
      entryPoints: [path.join(SCRIPTS, `${name}.ts`)],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: `node${process.versions.node.split('.')[0]}`,
      // CommonJS packages inside an ES module bundle still need a require of their own.
      banner: {
        js: "import { createRequire as __taskflowRequire } from 'node:module';\nconst require = __taskflowRequire(import.meta.url);",
      },
      write: false,
      outfile: bundlePath,
      sourcemap: 'linked',
      sourcesContent: false,
      logLevel: 'silent',
      define: { 'import.meta.url': META_URL, __filename: FILENAME },
      plugins: [
        {
          name: 'taskflow-sources',
          setup(b) {
            // Every file is read here: its signature goes into the manifest (of exactly the text
            // compiled), and a module that uses import.meta.url gets its own file's URL.
            b.onLoad({ filter: /\.([cm]?[jt]s|json)$/ }, (args) => {
              const text = readFileSync(args.path, 'utf8');
              const rel = path.relative(ROOT, args.path);
              inputs[rel] = signature(rel, text);
              const loader = /** @type {'ts' | 'js' | 'json'} */ (
                args.path.endsWith('.json') ? 'json' : /\.[cm]?ts$/.test(args.path) ? 'ts' : 'js'
              );
              let contents = text.includes('import.meta.url')
                ? `const ${META_URL} = ${JSON.stringify(pathToFileURL(args.path).href)};\n${text}`
                : text;
              if (loader !== 'json' && text.includes('__filename')) {
                contents = `const ${FILENAME} = ${JSON.stringify(args.path)};\n${contents}`;
              }
              return { contents, loader };
            });
          },
        },
      ],
    })
    .finally(() => esbuild.stop());
  return { files: result.outputFiles, inputs };
}

/**
 * Writes a compiled module and its manifest, each under a temporary name renamed into place, so a
 * command started meanwhile (tests start many at once) sees the old files or the new, never half.
 * @param {Awaited<ReturnType<typeof compile>>} compiled
 * @param {string} manifestPath
 */
function save(compiled, manifestPath) {
  mkdirSync(CACHE, { recursive: true });
  const manifest = { format: FORMAT, node: process.versions.node, inputs: compiled.inputs };
  const files = [
    ...compiled.files.map((f) => ({ path: f.path, contents: f.contents })),
    { path: manifestPath, contents: JSON.stringify(manifest, null, 1) },
  ];
  for (const file of files) {
    const tmp = `${file.path}.${process.pid}.tmp`;
    writeFileSync(tmp, file.contents);
    renameSync(tmp, file.path);
  }
}

/**
 * Makes the compiled module of scripts/<name>.ts current and returns the URL to import: the module,
 * or the TypeScript source itself (compiled on the fly) when the cache folder cannot be written.
 * A source that does not compile ends the process with esbuild's messages (exit 1).
 * @param {string} name
 */
async function ensureBuilt(name) {
  const bundlePath = path.join(CACHE, `${name}.mjs`);
  const manifestPath = path.join(CACHE, `${name}.json`);
  if (existsSync(bundlePath) && isFresh(manifestPath)) return pathToFileURL(bundlePath).href;
  let compiled;
  try {
    compiled = await compile(name, bundlePath);
  } catch (err) {
    const errors = /** @type {{ errors?: import('esbuild').Message[] }} */ (err).errors;
    if (!Array.isArray(errors)) throw err;
    process.stderr.write(`scripts/${name}.ts does not compile:\n`);
    for (const e of errors) {
      const at = e.location ? `${e.location.file}:${e.location.line}:${e.location.column + 1}: ` : '';
      process.stderr.write(`  ${at}${e.text}\n`);
    }
    process.exit(1);
  }
  try {
    save(compiled, manifestPath);
    return pathToFileURL(bundlePath).href;
  } catch (err) {
    if (typeof (/** @type {{ code?: unknown }} */ (err).code) !== 'string') throw err;
    // Read-only checkout or node_modules, a full disk: compile each module as it loads instead.
    const { register } = await import('tsx/esm/api');
    register();
    return pathToFileURL(path.join(SCRIPTS, `${name}.ts`)).href;
  }
}

const [first, ...rest] = process.argv.slice(2);
const names = scriptNames();
if (first === '--prepare') {
  // Compile every script ahead of time (the test suite does it once before starting many at once).
  for (const n of rest.length > 0 ? rest : names) await ensureBuilt(n);
  process.exit(0);
}
if (first === undefined || !names.includes(first)) {
  process.stderr.write(
    `${first === undefined ? 'no script named' : `unknown script "${first}"`}\n` +
      'usage: node -- scripts/run.mjs <script> [args...]   (or --prepare [script...] to compile ahead)\n' +
      `scripts: ${names.join(', ')}\n`,
  );
  process.exit(2);
}
const entry = await ensureBuilt(first);
// The script sees the command line it would see run directly: [node, scripts/<name>.ts, ...args].
process.argv = [process.argv[0] ?? process.execPath, path.join(SCRIPTS, `${first}.ts`), ...rest];
await import(entry);
