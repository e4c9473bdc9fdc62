// Starts Debian's Orthanc (with the DICOMweb and GDCM plugins) as a plain child process on a free
// loopback port with its own temporary storage: the PACS of the test suite and the local demo.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface OrthancOptions {
  /** Executable; Debian installs it as /usr/sbin/Orthanc. */
  executable?: string;
  pluginDirectory?: string;
  /** HTTP Basic users (`{ name: password }`); none means no authentication. */
  users?: Record<string, string>;
  startTimeoutMs?: number;
}

export interface RunningOrthanc {
  /** Orthanc's REST root, e.g. `http://127.0.0.1:8042`. */
  url: string;
  /** DICOMweb root without a trailing slash, e.g. `http://127.0.0.1:8042/dicom-web`. */
  dicomWebUrl: string;
  /** Stores one Part 10 file; returns Orthanc's instance id. */
  upload(part10: Uint8Array): Promise<string>;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

export async function startOrthanc(options: OrthancOptions = {}): Promise<RunningOrthanc> {
  const directory = await mkdtemp(join(tmpdir(), 'orthanc-'));
  const port = await freePort();
  const plugins = options.pluginDirectory ?? '/usr/share/orthanc/plugins';
  const users = options.users ?? {};
  const config = {
    Name: 'SpineCdsPACS',
    StorageDirectory: join(directory, 'db'),
    IndexDirectory: join(directory, 'db'),
    HttpPort: port,
    DicomServerEnabled: false,
    // Orthanc 1.10 binds every interface; refusing remote clients keeps it loopback-only in effect.
    RemoteAccessAllowed: false,
    AuthenticationEnabled: Object.keys(users).length > 0,
    RegisteredUsers: users,
    Plugins: [join(plugins, 'libOrthancDicomWeb.so'), join(plugins, 'libOrthancGdcm.so')],
    DicomWeb: { Enable: true, Root: '/dicom-web/', StudiesMetadata: 'Full', SeriesMetadata: 'Full' },
    // GDCM cannot read 12-bit JPEG and Orthanc 1.10 crashes when it tries; DCMTK transcodes the rest.
    Gdcm: { Enable: true, RestrictTransferSyntaxes: ['1.2.840.10008.1.2.4.90', '1.2.840.10008.1.2.4.91'] },
  };
  const configPath = join(directory, 'orthanc.json');
  await writeFile(configPath, JSON.stringify(config));
  const child = spawn(options.executable ?? '/usr/sbin/Orthanc', [configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const spawnError = new Promise<never>((_, reject) => child.once('error', reject));
  const url = `http://127.0.0.1:${port}`;
  const authorization = Object.entries(users)[0];
  const headers: Record<string, string> = authorization
    ? { authorization: `Basic ${Buffer.from(`${authorization[0]}:${authorization[1]}`).toString('base64')}` }
    : {};

  const close = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited(child);
      clearTimeout(timer);
    }
    await rm(directory, { recursive: true, force: true });
  };

  const deadline = Date.now() + (options.startTimeoutMs ?? 20_000);
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`Orthanc exited with code ${child.exitCode}: ${stderr}`);
      const ready = await Promise.race([
        fetch(`${url}/system`, { headers }).then((r) => r.ok, () => false),
        spawnError,
      ]);
      if (ready) break;
      if (Date.now() > deadline) throw new Error(`Orthanc did not answer within the start timeout: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } catch (error) {
    await close();
    throw error;
  }

  return {
    url,
    dicomWebUrl: `${url}/dicom-web`,
    async upload(part10) {
      const response = await fetch(`${url}/instances`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/dicom' },
        body: part10,
      });
      if (!response.ok) throw new Error(`Orthanc refused the upload: HTTP ${response.status} ${await response.text()}`);
      const body = (await response.json()) as { ID: string };
      return body.ID;
    },
    close,
  };
}
