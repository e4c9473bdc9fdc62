// The service under soak: bench/hook-latency/server.ts in `app` mode as a child process (its own event
// loop and heap), with --expose-gc so each sample can force a full GC. Also its CPU time from /proc.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { MemoryReport, MemoryRequest } from '../hook-latency/common.js';

const SERVER = resolve(import.meta.dirname, '../hook-latency/server.ts');

export interface ServiceChild {
  baseUrl: string;
  pid: number;
  /** Set once the child has exited, with why. */
  readonly exited: string | undefined;
  /** process.memoryUsage() (raw and after a full GC), event-loop delay since the last sample, active resources. */
  sample(timeoutMs?: number): Promise<MemoryReport>;
  /** CPU seconds (user + system, all threads) used so far; Linux /proc, 100 Hz ticks. */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

export async function startService(configFile: string, logFile: string): Promise<ServiceChild> {
  const child: ChildProcess = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', SERVER, 'app', configFile, logFile], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  let exited: string | undefined;
  const exit = once(child, 'exit').then(([code, signal]) => {
    exited = `exited with ${signal === null ? `code ${String(code)}` : `signal ${String(signal)}`}`;
    throw new Error(`the service ${exited} before listening`);
  });
  const [line] = (await Promise.race([once(createInterface({ input: child.stdout! }), 'line'), exit])) as [string];
  exit.catch(() => undefined);
  const { port } = JSON.parse(line) as { port: number };
  let nextId = 0;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    get exited() {
      return exited;
    },
    sample: (timeoutMs = 30_000) =>
      new Promise((resolveReport, reject) => {
        const id = nextId++;
        const timer = setTimeout(() => {
          child.off('message', onMessage);
          reject(new Error(`the service did not answer a memory sample within ${timeoutMs} ms`));
        }, timeoutMs);
        const onMessage = (message: unknown): void => {
          const report = message as Partial<MemoryReport>;
          if (report.bench !== 'memory' || report.id !== id) return;
          clearTimeout(timer);
          child.off('message', onMessage);
          resolveReport(report as MemoryReport);
        };
        child.on('message', onMessage);
        child.send({ bench: 'memory', id, gc: true } satisfies MemoryRequest);
      }),
    cpuSeconds: () => {
      // Fields after the command name: utime and stime are the 12th and 13th, in clock ticks.
      const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return (Number(fields[11]) + Number(fields[12])) / 100;
    },
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const done = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await done;
      clearTimeout(timer);
    },
  };
}

/** Busy CPU seconds of the whole machine so far: /proc/stat's first line minus idle and iowait. */
export function machineBusySeconds(): number {
  const [user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.split(/\s+/).slice(1).map(Number);
  return (user! + nice! + system! + irq! + softirq! + steal!) / 100;
}
