// SMART app benchmark: the bundle's size and how soon the curves are drawn.
//   bundle   the app built by its own build script (smart-app/build.ts): JavaScript and every file the
//            browser loads, gzipped one by one
//   launch   EHR launches in headless Chromium (Debian's, through playwright-core) against the local
//            stack — the dev FHIR server behind the SMART authorization server, Orthanc, the service —
//            with the patient's assessment already cached. Each launch runs in a fresh browser
//            context (no HTTP cache, like a first opening in the EHR's frame). Two figures per launch:
//              page → curves   from index.html's navigation start to the curves drawn (the app's
//                              `curves-drawn` performance mark): what the target is about
//              launch → curves from opening launch.html (discovery, authorize, PKCE token exchange
//                              included) to the same mark, measured by the test driver
// Usage: tsx bench/smart-app/run.ts [--launches 20] [--warmup 3]
import { parseArgs } from 'node:util';
import { buildSmartApp } from '../../smart-app/build.js';
import { launchChromium } from '../../tests/helpers/browser.js';
import { tempDir } from '../../tests/helpers/cds-app.js';
import { patientAt, startStack } from '../../tests/helpers/fracture-risk-stack.js';

const { values: args } = parseArgs({ options: { launches: { type: 'string', default: '20' }, warmup: { type: 'string', default: '3' } } });
const LAUNCHES = Number(args.launches);
const WARMUP = Number(args.warmup);
const BUNDLE_TARGET_KB = 120;
const CURVES_TARGET_MS = 1000;

const kb = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KB`;
const quantile = (values: number[], q: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
};

const outDir = tempDir('smart-app-bench-');
const built = await buildSmartApp({ outDir });
console.log('bundle (smart-app/build.ts, minified)');
console.log(`  JavaScript            ${kb(built.jsBytes)} raw, ${kb(built.jsGzipBytes)} gzip`);
console.log(`  everything loaded     ${kb(built.totalGzipBytes)} gzip (HTML, CSS, JS)   target ≤ ${BUNDLE_TARGET_KB} KB: ${built.totalGzipBytes <= BUNDLE_TARGET_KB * 1024 ? 'met' : 'MISSED'}`);

const stack = await startStack({ smart: { appDir: outDir } });
const browser = await launchChromium();
try {
  let patient = patientAt(0);
  for (let index = 1; patient.factors.femoralNeckTScore !== null; index++) patient = patientAt(index);
  await stack.load(patient);
  const smart = stack.smart!;
  // The assessment the card's hook made: cached before the app opens.
  const token = (await smart.token(patient.id)).access_token;
  const warm = await fetch(`${smart.appBaseUrl}/api/patients/${patient.id}/assessment`, { headers: { authorization: `Bearer ${token}`, 'x-fhir-server': stack.fhir.baseUrl } });
  if (warm.status !== 200) throw new Error(`warming the cache failed: ${warm.status}`);

  const pageToCurves: number[] = [];
  const launchToCurves: number[] = [];
  for (let run = 0; run < WARMUP + LAUNCHES; run++) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const launch = smart.auth.createLaunch({ patient: patient.id });
    const started = performance.now();
    await page.goto(`${smart.launchUrl}?launch=${encodeURIComponent(launch)}&iss=${encodeURIComponent(stack.fhir.baseUrl)}`);
    // Functions, not strings: the app's CSP forbids eval, and the benchmark measures the app as served.
    await page.waitForFunction(() => performance.getEntriesByName('curves-drawn').length > 0, null, { timeout: 30_000, polling: 10 });
    const ended = performance.now();
    const mark = await page.evaluate(() => performance.getEntriesByName('curves-drawn')[0]!.startTime);
    if (run >= WARMUP) {
      pageToCurves.push(mark);
      launchToCurves.push(ended - started);
    }
    await context.close();
  }
  const line = (name: string, values: number[]): string =>
    `  ${name.padEnd(20)} p50 ${quantile(values, 0.5).toFixed(0).padStart(5)} ms   p95 ${quantile(values, 0.95).toFixed(0).padStart(5)} ms   max ${Math.max(...values).toFixed(0).padStart(5)} ms`;
  console.log(`\nEHR launch to curves drawn, cached assessment (${LAUNCHES} launches after ${WARMUP} warm-up, fresh browser context each)`);
  console.log(line('page → curves', pageToCurves));
  console.log(line('launch → curves', launchToCurves));
  const p50 = quantile(pageToCurves, 0.5);
  console.log(`  target: curves drawn ≤ ${CURVES_TARGET_MS} ms after page load (p50): ${p50 <= CURVES_TARGET_MS ? 'met' : 'MISSED'}`);
} finally {
  await browser.close();
  await stack.close();
}
