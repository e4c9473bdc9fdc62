// Inference benchmark: batch-1 latency and batch-8 throughput of the demo model and of a clinically
// sized backbone (ResNet-18 at 512 × 384, exported untrained by models/training/export_backbone.py)
// in onnxruntime-node, each next to PyTorch eager CPU inference of the same network in the same run
// (models/training/torch_bench.py), plus the latency through the service's runtime (worker thread,
// micro-batching). Runs one measurement at a time; batch 1 alternates onnxruntime and PyTorch over
// several rounds so both see the same machine, and the ratio is the median of the rounds' ratios.
// Target (issue 4): onnxruntime-node ≥ 1.5× faster than PyTorch eager at batch 1.
// --profile adds where the time goes: milliseconds per operator type in each runtime.
// Usage: npm run bench:inference [-- --reps N --rounds R --model models/<id> --threads T --profile]
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { createInferencePool } from '../../src/model/inference-pool.js';
import { loadModelFolder, type LoadedModel } from '../../src/model/model-registry.js';
import { OnnxModelRuntime } from '../../src/model/onnx-model-runtime.js';
import { sessionOptions } from '../../src/model/session-cache.js';
import { mulberry32 } from '../../src/synthetic/random.js';

const run = promisify(execFile);
const PYTHON = '/usr/bin/python3';
const TRAINING = join(import.meta.dirname, '../../models/training');
const { values: args } = parseArgs({
  options: { reps: { type: 'string', default: '30' }, rounds: { type: 'string', default: '3' }, model: { type: 'string', default: 'models/spine-deepsurv-demo' }, threads: { type: 'string', default: '2' }, profile: { type: 'boolean', default: false } },
});
const reps = Math.max(5, Number(args.reps));
const rounds = Math.max(1, Number(args.rounds));
const threads = Number(args.threads);

interface Network {
  label: string;
  onnxFile: string;
  height: number;
  width: number;
  covariates: number;
  torchArgs: string[];
  model: LoadedModel | null;
}

interface Timing {
  medianMs: number;
  p90Ms: number;
}

interface TorchTiming extends Timing {
  /** Convolution and linear multiply-accumulates of one forward pass. */
  multiplyAccumulates: number;
  /** With --profile: self CPU ms per forward pass, by operator type. */
  profileMs?: Record<string, number>;
}

/** Milliseconds per run by operator type, largest first. */
type OperatorProfile = [string, number][];

function summarise(times: number[]): Timing {
  const sorted = [...times].sort((a, b) => a - b);
  return { medianMs: sorted[Math.floor(sorted.length / 2)]!, p90Ms: sorted[Math.floor(sorted.length * 0.9)]! };
}

function randomTensor(length: number, seed: number): Float32Array {
  const random = mulberry32(seed);
  return Float32Array.from({ length }, () => random() * 2 - 1);
}

async function onnxTiming(network: Network, batch: number): Promise<Timing> {
  const session = await InferenceSession.create(network.onnxFile, sessionOptions(threads));
  const feeds: Record<string, Tensor> = {
    [session.inputNames[0]!]: new Tensor('float32', randomTensor(batch * network.height * network.width, 1), [batch, 1, network.height, network.width]),
  };
  if (network.covariates > 0) feeds[session.inputNames[1]!] = new Tensor('float32', randomTensor(batch * network.covariates, 2), [batch, network.covariates]);
  const times: number[] = [];
  for (let i = 0; i < 5 + reps; i++) {
    const start = performance.now();
    await session.run(feeds);
    if (i >= 5) times.push(performance.now() - start);
  }
  await session.release();
  return summarise(times);
}

async function torchTiming(network: Network, batch: number, profile = false): Promise<TorchTiming> {
  const torchArgs = [join(TRAINING, 'torch_bench.py'), ...network.torchArgs, '--batch', String(batch), '--reps', String(reps), '--threads', String(threads)];
  const { stdout } = await run(PYTHON, profile ? [...torchArgs, '--profile'] : torchArgs, { maxBuffer: 1 << 20 });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as TorchTiming;
}

/** Batch-1 kernel time per operator type from onnxruntime's own profiler (after graph fusion). */
async function onnxProfile(network: Network, directory: string): Promise<OperatorProfile> {
  const prefix = join(directory, `ort-profile-${Date.now()}`);
  const session = await InferenceSession.create(network.onnxFile, { ...sessionOptions(threads), enableProfiling: true, profileFilePrefix: prefix });
  const feeds: Record<string, Tensor> = { [session.inputNames[0]!]: new Tensor('float32', randomTensor(network.height * network.width, 1), [1, 1, network.height, network.width]) };
  if (network.covariates > 0) feeds[session.inputNames[1]!] = new Tensor('float32', randomTensor(network.covariates, 2), [1, network.covariates]);
  for (let i = 0; i < reps; i++) await session.run(feeds);
  session.endProfiling();
  await session.release();
  const file = (await readdir(directory)).find((name) => join(directory, name).startsWith(prefix));
  if (!file) throw new Error(`onnxruntime wrote no profile under ${prefix}`);
  const events = JSON.parse(await readFile(join(directory, file), 'utf8')) as { cat: string; name: string; dur: number; args?: { op_name?: string } }[];
  const totals = new Map<string, number>();
  for (const event of events) {
    if (event.cat !== 'Node' || !event.name.endsWith('_kernel_time') || !event.args?.op_name) continue;
    totals.set(event.args.op_name, (totals.get(event.args.op_name) ?? 0) + event.dur / 1000 / reps);
  }
  return [...totals].sort((a, b) => b[1] - a[1]);
}

function formatProfile(entries: OperatorProfile): string {
  return entries
    .filter(([, ms]) => ms >= 0.05)
    .map(([op, ms]) => `${op} ${ms.toFixed(1)}`)
    .join(', ');
}

/** Batch-1 latency through the service's runtime: a worker thread, the micro-batcher, transfers. */
async function runtimeTiming(model: LoadedModel): Promise<Timing> {
  const pool = createInferencePool({ inferenceThreads: 1 });
  const runtime = await OnnxModelRuntime.create({
    registry: { models: new Map([[model.card.id, model]]) },
    pool,
    settings: { intraOpThreads: threads, maxBatch: 8, batchWindowMs: 0, maxQueue: 64, timeoutMs: 60_000 },
  });
  const { height, width } = model.card.inputs.image.preprocessing;
  const factors = { age: 65, sex: 'female', weightKg: 60, heightCm: 158, priorFragilityFracture: false, parentHipFracture: false, currentSmoking: false, glucocorticoids: false, rheumatoidArthritis: false, secondaryOsteoporosis: false, alcohol: false, femoralNeckTScore: null } as const;
  const times: number[] = [];
  try {
    for (let i = 0; i < 5 + reps; i++) {
      const image = randomTensor(height * width, i);
      const start = performance.now();
      await runtime.predict(model.card.id, image, factors);
      if (i >= 5) times.push(performance.now() - start);
    }
  } finally {
    await runtime.close();
    await pool.close();
  }
  return summarise(times);
}

const fmt = (t: Timing): string => `${t.medianMs.toFixed(1)} ms (p90 ${t.p90Ms.toFixed(1)})`;
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const directory = await mkdtemp(join(tmpdir(), 'bench-inference-'));
try {
  const demo = await loadModelFolder(args.model, { requireFolderName: false });
  const demoSpec = demo.card.inputs.image.preprocessing;
  const resnetFile = join(directory, 'resnet18-512x384.onnx');
  await run(PYTHON, [join(TRAINING, 'export_backbone.py'), '--out', resnetFile, '--height', '512', '--width', '384']);
  const networks: Network[] = [
    {
      label: `demo model ${demo.card.id} ${demo.card.version} (${demoSpec.height} × ${demoSpec.width})`,
      onnxFile: demo.onnxFile,
      height: demoSpec.height,
      width: demoSpec.width,
      covariates: demo.card.inputs.covariates?.features.length ?? 0,
      torchArgs: ['--arch', 'demo', '--card', demo.cardFile],
      model: demo,
    },
    { label: 'ResNet-18, untrained (512 × 384)', onnxFile: resnetFile, height: 512, width: 384, covariates: 0, torchArgs: ['--arch', 'resnet18', '--height', '512', '--width', '384'], model: null },
  ];
  console.log('inference benchmark: onnxruntime-node vs PyTorch eager (CPU), same network, same run');
  console.log(`machine: ${cpus().length} cores, Node ${process.versions.node}; ${threads} threads each; ${reps} timed runs after 5 warm-ups; medians; batch 1 in ${rounds} alternating rounds\n`);
  let pass = true;
  for (const network of networks) {
    console.log(network.label);
    const ratios: number[] = [];
    let torchLast: TorchTiming | undefined;
    let ortBest = Infinity;
    for (let round = 1; round <= rounds; round++) {
      const ort1 = await onnxTiming(network, 1);
      torchLast = await torchTiming(network, 1);
      ortBest = Math.min(ortBest, ort1.medianMs);
      ratios.push(torchLast.medianMs / ort1.medianMs);
      console.log(`  batch 1, round ${round}   onnxruntime-node ${fmt(ort1)}   PyTorch eager ${fmt(torchLast)}   → ${ratios.at(-1)!.toFixed(2)}×`);
    }
    const gmac = torchLast!.multiplyAccumulates / 1e9;
    console.log(`  ${gmac.toFixed(2)} GMAC per image: onnxruntime-node sustains ${((2 * gmac) / (ortBest / 1000)).toFixed(0)} GFLOP/s at its best round median`);
    const speedup = median(ratios);
    pass &&= speedup >= 1.5;
    console.log(`  batch 1 speed-up, median of ${rounds} rounds: ${speedup.toFixed(2)}× (target ≥ 1.5×) ${speedup >= 1.5 ? 'met' : 'NOT MET'}`);
    const ort8 = await onnxTiming(network, 8);
    const torch8 = await torchTiming(network, 8);
    console.log(
      `  batch 8 throughput onnxruntime-node ${(8000 / ort8.medianMs).toFixed(1)} images/s   PyTorch eager ${(8000 / torch8.medianMs).toFixed(1)} images/s   → ${(torch8.medianMs / ort8.medianMs).toFixed(2)}×`,
    );
    if (args.profile) {
      const torchProfile = Object.entries((await torchTiming(network, 1, true)).profileMs ?? {});
      console.log(`  where the time goes at batch 1 (ms per image by operator type; onnxruntime counts the BatchNorm, ReLU and residual Add it fuses into Conv under Conv)`);
      console.log(`    onnxruntime-node: ${formatProfile(await onnxProfile(network, directory))}`);
      console.log(`    PyTorch eager:    ${formatProfile(torchProfile)}`);
    }
    if (network.model) console.log(`  batch 1 through the service runtime (worker thread + micro-batcher): ${fmt(await runtimeTiming(network.model))}`);
    console.log('');
  }
  console.log(pass ? 'target met for every network' : 'target NOT met for at least one network');
} finally {
  await rm(directory, { recursive: true, force: true });
}
