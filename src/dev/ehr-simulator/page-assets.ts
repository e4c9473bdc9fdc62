// The simulator's page, bundled in memory when the simulator starts (esbuild, no build step and nothing
// written to disk): page/main.ts with marked and DOMPurify into one script, page/styles.css, and
// page/index.html. From a compiled tree (dist/) the sources are read from the repository's src/.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as Esbuild from 'esbuild';

export interface PageAssets {
  html: string;
  js: string;
  css: string;
}

function pageDir(): string {
  const here = fileURLToPath(new URL('.', import.meta.url));
  const candidates = [join(here, 'page'), join(here, '..', '..', '..', '..', 'src', 'dev', 'ehr-simulator', 'page')];
  const found = candidates.find((dir) => existsSync(join(dir, 'index.html')) && existsSync(join(dir, 'main.ts')));
  if (found === undefined) throw new Error(`EHR simulator: the page sources are not at ${candidates.join(' or ')}`);
  return found;
}

export async function buildPageAssets(): Promise<PageAssets> {
  const dir = pageDir();
  let esbuild: typeof Esbuild;
  try {
    esbuild = await import('esbuild');
  } catch {
    throw new Error('EHR simulator: its page is bundled with esbuild, a development dependency: run npm install (with dev dependencies)');
  }
  const result = await esbuild.build({
    entryPoints: { main: join(dir, 'main.ts'), styles: join(dir, 'styles.css') },
    bundle: true,
    write: false,
    outdir: '/ehr-simulator', // names the outputs only: nothing is written
    platform: 'browser',
    format: 'esm',
    target: 'es2020',
    minify: true,
    legalComments: 'eof',
    logLevel: 'silent',
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  const output = (ext: string): string => {
    const file = result.outputFiles.find((f) => f.path.endsWith(ext));
    if (file === undefined) throw new Error(`EHR simulator: the page bundle has no ${ext} output`);
    return file.text;
  };
  return { html: await readFile(join(dir, 'index.html'), 'utf8'), js: output('.js'), css: output('.css') };
}
