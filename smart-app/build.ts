// Builds the SMART app into a folder the backend serves at /smart-app/: launch.js and main.js
// (esbuild, ES2020, for the browser; their shared code — fhirclient — in one chunk), styles.css with
// uPlot's stylesheet bundled in, and the two HTML pages. config.json is not built: the backend serves
// it from its configuration.
//
//   tsx smart-app/build.ts [outDir]     (default dist/smart-app; prints the sizes)
//
// fhirclient's browser entry pulls in cross-fetch, an AbortController polyfill, `debug` and
// isomorphic-webcrypto's shims for old browsers; the app imports its BrowserAdapter instead
// (src/smart.ts), defines FHIRCLIENT_PURE (fhirclient's own switch for its "pure" build) and
// replaces `debug` (which would log token responses if localStorage.debug were set) and
// isomorphic-webcrypto (used only where globalThis.crypto is missing) with stubs below.
import { build, type Plugin } from 'esbuild';
import { readdir, readFile, rm, mkdir, copyFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';

export interface BuildOptions {
  outDir: string;
  minify?: boolean;
}

export interface BuildResult {
  /** Output file names, relative to outDir. */
  files: string[];
  jsBytes: number;
  jsGzipBytes: number;
  /** Every file the browser loads (HTML, CSS, JS), gzipped one by one. */
  totalGzipBytes: number;
}

const APP_DIR = dirname(fileURLToPath(import.meta.url));
const PAGES = ['index.html', 'launch.html'];

const STUBS: Readonly<Record<string, string>> = {
  // fhirclient calls debug('FHIR').extend(...) and then the loggers; all of them do nothing here.
  debug: 'function d(){var f=function(){};f.extend=d;f.enabled=false;return f}module.exports=d;',
  'isomorphic-webcrypto': 'module.exports={default:globalThis.crypto};',
};

const stubs: Plugin = {
  name: 'fhirclient-stubs',
  setup(b) {
    b.onResolve({ filter: /^(debug|isomorphic-webcrypto)$/ }, (args) => ({ path: args.path, namespace: 'stub' }));
    b.onLoad({ filter: /.*/, namespace: 'stub' }, (args) => ({ contents: STUBS[args.path] ?? '', loader: 'js' }));
  },
};

/** Removes what an earlier build left (its chunks are content-named), keeping anything else. */
async function clean(outDir: string): Promise<void> {
  let names: string[] = [];
  try {
    names = await readdir(outDir);
  } catch {
    return;
  }
  const ours = names.filter((n) => /^(chunk-[\w-]+\.js|main\.js|launch\.js|styles\.css|index\.html|launch\.html)(\.map)?$/.test(n));
  await Promise.all(ours.map((n) => rm(join(outDir, n), { force: true })));
}

export async function buildSmartApp({ outDir, minify = true }: BuildOptions): Promise<BuildResult> {
  const out = resolve(outDir);
  await clean(out);
  await mkdir(out, { recursive: true });
  const common = { bundle: true, minify, logLevel: 'warning' as const, absWorkingDir: APP_DIR, outdir: out, write: true };
  await build({
    ...common,
    entryPoints: { launch: join(APP_DIR, 'src/launch.ts'), main: join(APP_DIR, 'src/main.ts') },
    format: 'esm',
    splitting: true,
    chunkNames: 'chunk-[hash]',
    platform: 'browser',
    target: 'es2020',
    tsconfig: join(APP_DIR, 'tsconfig.json'),
    define: { FHIRCLIENT_PURE: 'true', 'process.env.NODE_ENV': '"production"' },
    plugins: [stubs],
    sourcemap: minify ? false : 'inline',
  });
  await build({ ...common, entryPoints: { styles: join(APP_DIR, 'styles.css') }, loader: { '.css': 'css' } });
  await Promise.all(PAGES.map((page) => copyFile(join(APP_DIR, page), join(out, page))));

  const files = (await readdir(out)).filter((n) => /\.(js|css|html)$/.test(n) && n !== 'config.json').sort();
  let jsBytes = 0;
  let jsGzipBytes = 0;
  let totalGzipBytes = 0;
  for (const name of files) {
    const content = await readFile(join(out, name));
    const gz = gzipSync(content, { level: 9 }).length;
    totalGzipBytes += gz;
    if (name.endsWith('.js')) {
      jsBytes += content.length;
      jsGzipBytes += gz;
    }
  }
  return { files, jsBytes, jsGzipBytes, totalGzipBytes };
}

const kb = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KB`;

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const outDir = process.argv[2] ?? 'dist/smart-app';
  const result = await buildSmartApp({ outDir });
  for (const name of result.files) {
    const content = await readFile(join(outDir, name));
    console.log(`${name.padEnd(28)} ${kb(content.length).padStart(10)} ${kb(gzipSync(content, { level: 9 }).length).padStart(10)} gzip`);
  }
  console.log(`JavaScript ${kb(result.jsBytes)} (${kb(result.jsGzipBytes)} gzip); everything ${kb(result.totalGzipBytes)} gzip → ${outDir}`);
}
