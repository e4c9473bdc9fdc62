// The micro-batcher on its own: batches leave full or after the window, only with a free slot;
// requests arriving meanwhile ride along; a full queue is refused at once; close refuses the rest.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { BatchScheduler } from '../../src/model/batch-scheduler.js';

class Busy extends Error {}
class Closed extends Error {}
class TimedOut extends Error {}

function scheduler(options: { maxBatch?: number; windowMs?: number; maxQueued?: number; slots?: number; delayMs?: number; timeoutMs?: number }) {
  const batches: { key: string; items: number[] }[] = [];
  let running = 0;
  let maxRunning = 0;
  const s = new BatchScheduler<number, number>({
    maxBatch: () => options.maxBatch ?? 4,
    windowMs: options.windowMs ?? 10,
    maxQueued: options.maxQueued ?? 100,
    slots: options.slots ?? 1,
    execute: async (key, items) => {
      batches.push({ key, items });
      running++;
      maxRunning = Math.max(maxRunning, running);
      await sleep(options.delayMs ?? 0);
      running--;
      return items.map((i) => i * 10);
    },
    timeoutMs: options.timeoutMs ?? 10_000,
    busyError: () => new Busy('busy'),
    closedError: () => new Closed('closed'),
    timeoutError: () => new TimedOut('timeout'),
  });
  return { s, batches, maxRunning: () => maxRunning };
}

describe('batch scheduler', () => {
  it('sends a full batch at once and answers each request with its own result', async () => {
    const { s, batches } = scheduler({ maxBatch: 4, windowMs: 10_000 });
    const results = await Promise.all([1, 2, 3, 4].map((i) => s.submit('m', i)));
    assert.deepEqual(results, [10, 20, 30, 40]);
    assert.deepEqual(batches, [{ key: 'm', items: [1, 2, 3, 4] }]);
  });

  it('sends a partial batch when the oldest request has waited the window', async () => {
    const { s, batches } = scheduler({ maxBatch: 8, windowMs: 20 });
    const started = performance.now();
    assert.deepEqual(await Promise.all([s.submit('m', 1), s.submit('m', 2)]), [10, 20]);
    assert.ok(performance.now() - started >= 15);
    assert.deepEqual(batches.map((b) => b.items), [[1, 2]]);
  });

  it('keeps models apart', async () => {
    const { s, batches } = scheduler({ maxBatch: 4, windowMs: 5 });
    await Promise.all([s.submit('a', 1), s.submit('b', 2), s.submit('a', 3)]);
    assert.deepEqual(batches.map((b) => `${b.key}:${b.items.join(',')}`).sort(), ['a:1,3', 'b:2']);
  });

  it('grows batches while every slot is busy instead of queueing runs', async () => {
    const { s, batches, maxRunning } = scheduler({ maxBatch: 4, windowMs: 1, slots: 1, delayMs: 30 });
    const first = s.submit('m', 0);
    await sleep(5); // the first batch is running
    const rest = [1, 2, 3, 4, 5].map((i) => s.submit('m', i));
    await Promise.all([first, ...rest]);
    assert.deepEqual(batches.map((b) => b.items), [[0], [1, 2, 3, 4], [5]]);
    assert.equal(maxRunning(), 1);
  });

  it('runs as many batches at once as it has slots', async () => {
    const { s, maxRunning } = scheduler({ maxBatch: 1, windowMs: 0, slots: 2, delayMs: 20 });
    await Promise.all([1, 2, 3, 4].map((i) => s.submit('m', i)));
    assert.equal(maxRunning(), 2);
  });

  it('refuses requests beyond maxQueued at once', async () => {
    const { s } = scheduler({ maxBatch: 2, windowMs: 1, maxQueued: 3, slots: 1, delayMs: 30 });
    const running = s.submit('m', 0);
    await sleep(5);
    const outcomes = await Promise.allSettled([1, 2, 3, 4, 5].map((i) => s.submit('m', i)));
    assert.deepEqual(outcomes.map((o) => o.status), ['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'rejected']);
    assert.ok(outcomes.every((o) => o.status === 'fulfilled' || o.reason instanceof Busy));
    await running;
    assert.equal(s.queued, 0);
  });

  it('rejects every request of a failed batch with its error', async () => {
    const s = new BatchScheduler<number, number>({
      maxBatch: () => 2,
      windowMs: 0,
      maxQueued: 10,
      slots: 1,
      execute: () => Promise.reject(new Error('worker crashed')),
      timeoutMs: 1000,
      busyError: () => new Busy(),
      closedError: () => new Closed(),
      timeoutError: () => new TimedOut(),
    });
    const outcomes = await Promise.allSettled([s.submit('m', 1), s.submit('m', 2)]);
    assert.ok(outcomes.every((o) => o.status === 'rejected' && (o.reason as Error).message === 'worker crashed'));
  });

  it('runBatch shares the slots, is never merged and never refused as busy', async () => {
    const { s, batches, maxRunning } = scheduler({ maxBatch: 2, windowMs: 1, maxQueued: 1, slots: 1, delayMs: 10 });
    const results = await Promise.all([s.runBatch('m', [1, 2, 3]), s.runBatch('m', [4]), s.submit('m', 5)]);
    assert.deepEqual(results, [[10, 20, 30], [40], 50]);
    assert.deepEqual(batches.map((b) => b.items), [[1, 2, 3], [4], [5]]);
    assert.equal(maxRunning(), 1);
  });

  it('answers a run past its time cap with a timeout at once, but frees its slot only when it ends', async () => {
    const { s, batches } = scheduler({ maxBatch: 1, windowMs: 0, slots: 1, delayMs: 60, timeoutMs: 10 });
    const started = performance.now();
    const slow = s.submit('m', 1);
    await assert.rejects(slow, TimedOut);
    assert.ok(performance.now() - started < 50, 'the caller did not wait for the run');
    const next = s.runBatch('m', [2]);
    await assert.rejects(next, TimedOut);
    assert.ok(performance.now() - started >= 55, 'the second run waited for the first to really end');
    assert.deepEqual(batches.map((b) => b.items), [[1], [2]]);
  });

  it('close refuses waiting and new requests, and waits for runs in progress', async () => {
    const { s } = scheduler({ maxBatch: 1, windowMs: 0, slots: 1, delayMs: 40 });
    const running = s.submit('m', 0);
    await sleep(5);
    const refused = assert.rejects(s.submit('m', 1), Closed);
    const started = performance.now();
    await s.close();
    assert.ok(performance.now() - started >= 25, 'close waited for the running batch');
    assert.equal(await running, 0);
    await refused;
    await assert.rejects(s.submit('m', 2), Closed);
    await assert.rejects(s.runBatch('m', [3]), Closed);
  });
});
