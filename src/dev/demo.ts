// `spine-cds demo`: the whole product on loopback with synthetic data — the dev FHIR server seeded with
// the demo patients (demo-scenarios.ts) behind the SMART authorization server, Orthanc with their
// radiographs, the CDS service with the demo model (built by the real composition root, trusting the
// EHR simulator's key, serving the SMART app), and the EHR simulator page to drive it all from a
// browser. close() stops everything and removes what the run created (the store, Orthanc's storage);
// only the cache of rendered radiographs stays, so the next start is quick.
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Practitioner } from 'fhir/r4.js';
import type { Logger } from 'pino';
import { loadConfig } from '../config.js';
import { createServing, type Serving } from '../serve.js';
import { demoAsOf, demoPatients, type DemoPatient } from './demo-scenarios.js';
import { startEhrSimulator } from './ehr-simulator/ehr-simulator.js';
import { createSimulatorKey } from './ehr-simulator/simulator-key.js';
import type { DevFhirServer } from './fhir-server.js';
import { listenLate } from './late-bound-server.js';
import { startOrthanc, type RunningOrthanc } from './orthanc.js';
import type { SmartAuthServer } from './smart-auth-server.js';
import { startSmartFhir } from './smart-fhir.js';

export const DEMO_PORTS = { cds: 8080, fhir: 8081, ehr: 8082, auth: 8083 } as const;
export const DEMO_USER = { id: 'dr-demo', fhirUser: 'Practitioner/dr-demo', name: 'Dr. Dana Demo' };
const APP_CLIENT_ID = 'spine-fracture-risk';
const EHR_CLIENT_ID = 'ehr-simulator';
const SIMULATOR_ISS = 'urn:spine-cds:demo-ehr-simulator';
const ORTHANC_EXECUTABLE = '/usr/sbin/Orthanc';

export interface DemoOptions {
  host?: string;
  /** Ports (0 = any free one, for tests); default DEMO_PORTS. */
  ports?: Partial<Record<keyof typeof DEMO_PORTS, number>>;
  /** Rendered radiographs are cached here between runs. */
  cacheDir: string;
  /** The built SMART app (npm run build). */
  appDir: string;
  modelDir: string;
  /** Start Orthanc (default: when it is installed). */
  orthanc?: boolean;
  logger: Logger;
  /** One line per step, for the console. */
  progress?: (line: string) => void;
  now?: () => Date;
}

export interface DemoUrls {
  ehr: string;
  cds: string;
  fhir: string;
  auth: string;
  app: string;
  /** Absent when the demo runs without Orthanc. */
  pacs?: string;
}

export interface Demo {
  urls: DemoUrls;
  patients: DemoPatient[];
  fhir: DevFhirServer;
  auth: SmartAuthServer;
  serving: Serving;
  close(): Promise<void>;
}

/** Runs `work` over items, at most `limit` at a time. */
async function eachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++] as T);
  }));
}

export async function startDemo(options: DemoOptions): Promise<Demo> {
  const host = options.host ?? '127.0.0.1';
  const ports = { ...DEMO_PORTS, ...options.ports };
  const progress = options.progress ?? (() => undefined);
  const now = options.now ?? (() => new Date());
  const cleanups: (() => Promise<void>)[] = [];
  const close = async (): Promise<void> => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  };
  try {
    if (!existsSync(join(options.appDir, 'index.html'))) progress(`The SMART app is not built (${options.appDir}): run npm run build; the rest of the demo runs without it.`);
    const workDir = await mkdtemp(join(tmpdir(), 'spine-cds-demo-'));
    cleanups.push(() => rm(workDir, { recursive: true, force: true }));

    const cds = await listenLate(host, ports.cds);
    cleanups.push(() => cds.close());

    let orthanc: RunningOrthanc | undefined;
    const wantOrthanc = options.orthanc ?? existsSync(ORTHANC_EXECUTABLE);
    if (wantOrthanc) {
      progress('Starting Orthanc (the PACS)…');
      orthanc = await startOrthanc();
      cleanups.push(() => orthanc!.close());
    } else {
      const why = options.orthanc === false ? 'Running without Orthanc (--no-orthanc)' : `Orthanc is not installed (${ORTHANC_EXECUTABLE})`;
      progress(`${why}: the demo has no radiographs, so the patients the model would score get "radiograph unavailable"; the others keep their scenario's outcome.`);
      if (options.orthanc !== false) progress('  Install it with: sudo apt-get install -y orthanc orthanc-dicomweb orthanc-gdcm   (or run scripts/install-system-deps.sh)');
    }

    const asOf = demoAsOf(now());
    // Without Orthanc the Endpoints point at a PACS that is allow-listed but not running.
    const dicomWebBaseUrl = orthanc?.dicomWebUrl ?? `http://${host}:9/dicom-web`;
    const patients = demoPatients({ asOf, dicomWebBaseUrl, cacheDir: options.cacheDir });

    progress('Starting the FHIR server and the SMART authorization server…');
    const smartFhir = await startSmartFhir({
      fhir: { host, port: ports.fhir },
      auth: {
        host,
        port: ports.auth,
        clients: [
          { clientId: APP_CLIENT_ID, redirectUris: [`${cds.url}/smart-app/index.html`] },
          { clientId: EHR_CLIENT_ID, redirectUris: [`${cds.url}/unused`] },
        ],
        user: DEMO_USER,
        patients: () => Promise.resolve(patients.map((p) => ({ id: p.id, name: p.name }))),
      },
    });
    cleanups.push(() => smartFhir.close());
    const practitioner: Practitioner = { resourceType: 'Practitioner', id: DEMO_USER.id, name: [{ prefix: ['Dr.'], given: ['Dana'], family: 'Demo' }] };
    // The EHR simulator is the system of record: its charts go straight into the repository.
    await smartFhir.fhir.seed([practitioner, ...patients.flatMap((p) => p.resources)]);
    progress(`Seeded ${patients.length} synthetic patients (charts as of ${asOf.toISOString().slice(0, 10)}).`);

    if (orthanc) {
      const withImages = patients.filter((p) => p.resources.some((r) => r.resourceType === 'ImagingStudy'));
      const started = performance.now();
      await eachLimited(withImages, 4, async (patient) => void (await orthanc.upload(await patient.radiograph())));
      progress(`Loaded ${withImages.length} radiographs into Orthanc in ${((performance.now() - started) / 1000).toFixed(1)} s (rendered ones are cached in ${options.cacheDir}).`);
    }

    progress('Starting the CDS service with the demo model…');
    const key = await createSimulatorKey(SIMULATOR_ISS);
    const configFile = join(workDir, 'config.json');
    await writeFile(
      configFile,
      JSON.stringify({
        mode: 'development',
        server: { host, port: ports.cds, publicBaseUrl: cds.url },
        auth: { clients: [{ iss: key.iss, jwks: { keys: [key.publicJwk] } }] },
        fhir: { servers: [{ baseUrl: smartFhir.fhir.baseUrl, allowInsecureHttp: true }] },
        imaging: { dicomweb: { endpoints: [{ baseUrl: dicomWebBaseUrl, allowInsecureHttp: true }] } },
        model: { dir: resolve(options.modelDir) },
        smartApp: { launchUrl: `${cds.url}/smart-app/launch.html`, clientId: APP_CLIENT_ID, dir: resolve(options.appDir) },
        store: { sqlitePath: join(workDir, 'cds.sqlite') },
        log: { level: options.logger.level },
      }),
    );
    const serving = await createServing(loadConfig({}, configFile), { logger: options.logger, clock: now });
    cleanups.push(() => serving.close());
    cds.bind(serving.app.express);
    // Stop taking requests before the service's store and workers close (cleanups run last-in first-out).
    cleanups.push(() => cds.close());

    const simulator = await startEhrSimulator({
      host,
      port: ports.ehr,
      fhirBaseUrl: smartFhir.fhir.baseUrl,
      auth: smartFhir.auth,
      cdsBaseUrl: cds.url,
      key,
      user: DEMO_USER,
      patients: patients.map((p) => ({ id: p.id, name: p.name, scenario: p.scenario })),
      clientId: EHR_CLIENT_ID,
    });
    cleanups.push(() => simulator.close());

    const urls: DemoUrls = {
      ehr: simulator.url,
      cds: cds.url,
      fhir: smartFhir.fhir.baseUrl,
      auth: smartFhir.auth.issuer,
      app: `${cds.url}/smart-app/launch.html`,
      ...(orthanc ? { pacs: orthanc.dicomWebUrl } : {}),
    };
    return { urls, patients, fhir: smartFhir.fhir, auth: smartFhir.auth, serving, close };
  } catch (error) {
    await close();
    throw error;
  }
}
