// Runs `serve` as an operator would: `node --import tsx src/main.ts serve -c <file>` as a child
// process, its JSON log lines (stdout) collected for the test, its port read from the `listening`
// line (configure server.port 0). Environment overrides of the configuration are cleared so the file
// alone decides. Children still running when the test process exits are killed.
import { spawn } from 'node:child_process';
import { ENV_OVERRIDES } from '../../src/config.js';

export interface ServeExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServeProcess {
  readonly pid: number;
  /** `http://127.0.0.1:<port>`. */
  readonly origin: string;
  /** Every JSON line printed on stdout so far; a line that is not JSON is kept as `{ raw }`. */
  logLines(): Record<string, unknown>[];
  stderr(): string;
  /** The first log line that satisfies the predicate, waiting for it (lines arrive through a pipe, after the HTTP answer). */
  waitForLine(predicate: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Settles when the process has exited. */
  readonly exited: Promise<ServeExit>;
  /** Whether it has not exited yet. */
  running(): boolean;
  /** Sends the signal (unless it has already exited) and waits for the exit. */
  stop(signal: NodeJS.Signals): Promise<ServeExit>;
}

const running = new Set<{ kill(signal: NodeJS.Signals): boolean }>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of [...Object.keys(ENV_OVERRIDES), 'CDS_CONFIG']) delete env[name];
  return env;
}

/** Starts `serve` with the configuration file and resolves once it listens (rejects if it exits or takes too long). */
export async function startServe(configFile: string, options: { startTimeoutMs?: number } = {}): Promise<ServeProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve', '-c', configFile], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  const lines: Record<string, unknown>[] = [];
  let partial = '';
  let stderr = '';
  let onListening: (port: number) => void = () => undefined;
  const listening = new Promise<number>((resolve) => (onListening = resolve));

  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    for (const text of parts.filter((p) => p.trim() !== '')) {
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(text) as Record<string, unknown>;
      } catch {
        line = { raw: text };
      }
      lines.push(line);
      if (line.msg === 'listening' && typeof line.port === 'number') onListening(line.port);
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<ServeExit>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
  });

  const timeoutMs = options.startTimeoutMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  const port = await Promise.race([
    listening,
    exited.then(({ code, signal }) => {
      throw new Error(`serve exited (code ${code}, signal ${signal}) before listening:\n${stderr}`);
    }),
    new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`serve did not listen within ${timeoutMs} ms:\n${stderr}`)), timeoutMs);
    }),
  ]).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw error;
  }).finally(() => clearTimeout(timer));

  return {
    pid: child.pid as number,
    origin: `http://127.0.0.1:${port}`,
    logLines: () => [...lines],
    stderr: () => stderr,
    async waitForLine(predicate, waitMs = 5_000) {
      const until = Date.now() + waitMs;
      for (;;) {
        const line = lines.find(predicate);
        if (line) return line;
        if (Date.now() > until) throw new Error(`no such log line within ${waitMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    exited,
    running: () => child.exitCode === null && child.signalCode === null,
    stop(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
