// The soak's mixed load, open loop: every request type has a rate, and a 10 ms tick starts whatever the
// schedule says is due, however long earlier calls take. A cap on calls in flight keeps an overloaded
// service from piling up sockets here: a call that would exceed it is not started and counts as an
// error ("in-flight cap"), so overload shows as errors and latency, never as a slower generator.
import { randomUUID } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';
import type { Coding } from 'fhir/r4.js';
import type { Card } from '../../src/cds/types.js';
import { HOOK_PATH } from '../hook-latency/common.js';
import { hookBody } from '../hook-latency/patients.js';
import { signTokens, type Key } from '../shared/tokens.js';
import { bodyParts, nudgedPrefetch, type SoakPatient, type SoakStack } from './stack.js';
import { MinuteTally, REQUEST_TYPES, type RequestType } from './stats.js';

export const FEEDBACK_PATH = `${HOOK_PATH}/feedback`;
const CALL_TIMEOUT_MS = 60_000;

export interface Answer {
  status: number;
  ms: number;
  text: string;
}

/** One HTTP call over a keep-alive agent; the time runs from the request's start to the answer's last byte. */
export function call(agent: Agent, url: string, method: 'GET' | 'POST', headers: Record<string, string>, body?: string): Promise<Answer> {
  return new Promise((resolveCall, reject) => {
    const started = performance.now();
    const req = httpRequest(url, { agent, method, headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolveCall({ status: res.statusCode ?? 0, ms: performance.now() - started, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(CALL_TIMEOUT_MS, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Client JWTs for one audience (the exact URL called), signed ahead in the background so that a
 * minute's worth is always at hand and none is older than about two minutes when used. Each is
 * handed out once. Running dry is a generator failure, never papered over by reuse.
 */
export class TokenPool {
  private tokens: string[] = [];
  private refilling: Promise<void> | undefined;
  ranDry = 0;
  failure: Error | undefined;

  constructor(
    private readonly key: Key,
    private readonly issuer: string,
    private readonly audience: string,
    private readonly perMinute: number,
  ) {}

  async fill(): Promise<void> {
    this.tokens.push(...(await signTokens(this.key, this.issuer, this.audience, Math.max(16, Math.ceil(this.perMinute)))));
  }

  take(): string | undefined {
    if (this.tokens.length < Math.max(8, this.perMinute / 3) && !this.refilling) {
      this.refilling = this.fill()
        .catch((error: unknown) => void (this.failure = error as Error))
        .finally(() => (this.refilling = undefined));
    }
    const token = this.tokens.shift();
    if (token === undefined) this.ranDry++;
    return token;
  }
}

/** A card to send feedback about: its uuid, a suggestion's uuid (for "accepted") and an override reason. */
interface IssuedCard {
  uuid: string;
  suggestion?: string;
  reason?: Coding;
}

export interface Rates {
  warmPerSecond: number;
  coldPerSecond: number;
  feedbackPerSecond: number;
  apiPerSecond: number;
}

export interface LoadOptions {
  baseUrl: string;
  stack: SoakStack;
  patients: SoakPatient[];
  key: Key;
  issuer: string;
  rates: Rates;
  maxInFlight: number;
  /** Uniform in [0, 1): which patient a warm hook or an API call is for. */
  random: () => number;
}

/** Small deterministic PRNG (mulberry32) for the patient choice, seeded by --seed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class MixedLoad {
  readonly agent = new Agent({ keepAlive: true, maxSockets: 256 });
  private readonly hookTokens: TokenPool;
  private readonly feedbackTokens: TokenPool;
  private readonly cards: IssuedCard[] = [];
  private nextCard = 0;
  private cardsIssued = 0;
  private nextCold = 0;
  private feedbackSent = 0;
  private readonly sent: Record<RequestType, number> = { warm: 0, cold: 0, feedback: 0, api: 0 };
  private readonly inFlight = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private started = 0;
  /** The tallies of the current minute; `rotate()` hands them over and starts new ones. */
  private tally = MixedLoad.emptyTally();
  /** Most a call of the current minute started after its scheduled time: the generator's own lag. */
  private lateMs = 0;
  /** Cold calls answered 200 with a card: each should have prepared its radiograph afresh. */
  coldOk = 0;
  /** hookInstances of the cold calls, to tell them from warm ones in the service's request log. */
  readonly coldInstances = new Set<string>();
  /** A card, suggestion or prefetch problem of the bench itself. */
  benchProblem: string | undefined;

  constructor(private readonly options: LoadOptions) {
    const { key, issuer, baseUrl, rates } = options;
    this.hookTokens = new TokenPool(key, issuer, baseUrl + HOOK_PATH, (rates.warmPerSecond + rates.coldPerSecond) * 60);
    this.feedbackTokens = new TokenPool(key, issuer, baseUrl + FEEDBACK_PATH, rates.feedbackPerSecond * 60);
  }

  static emptyTally(): Record<RequestType, MinuteTally> {
    return Object.fromEntries(REQUEST_TYPES.map((t) => [t, new MinuteTally()])) as Record<RequestType, MinuteTally>;
  }

  /** Signs the first tokens; call before start(). */
  async prepare(): Promise<void> {
    await Promise.all([this.hookTokens.fill(), this.feedbackTokens.fill()]);
  }

  get tokenProblem(): string | undefined {
    const pools = [this.hookTokens, this.feedbackTokens];
    const failure = pools.find((p) => p.failure)?.failure;
    if (failure) return `signing tokens failed: ${failure.message}`;
    const dry = pools.reduce((s, p) => s + p.ranDry, 0);
    return dry > 0 ? `${dry} calls found no pre-signed token (bench bug: sign further ahead)` : undefined;
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** One hook for each patient in turn, its original body, one at a time: every assessment computed, every card kept. */
  async prime(): Promise<string[]> {
    const problems: string[] = [];
    for (const patient of this.options.patients) {
      const token = this.hookTokens.take();
      if (token === undefined) throw new Error('no token to prime with');
      const answer = await call(this.agent, this.options.baseUrl + HOOK_PATH, 'POST', { authorization: `Bearer ${token}` }, hookBody(patient, randomUUID()));
      const problem = this.hookProblem(answer);
      if (problem) problems.push(`${patient.id}: ${problem} ${answer.text.slice(0, 200)}`);
    }
    return problems;
  }

  start(): void {
    this.started = performance.now();
    this.timer = setInterval(() => this.tick(), 10);
  }

  /** The tallies of the minute just ended (calls completed in it), the generator's lag in it; new ones start. */
  rotate(): { tally: Record<RequestType, MinuteTally>; lateMs: number } {
    const ended = { tally: this.tally, lateMs: this.lateMs };
    this.tally = MixedLoad.emptyTally();
    this.lateMs = 0;
    return ended;
  }

  /** Stops starting calls and waits for those in flight (each ends within the 60 s call timeout). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.allSettled([...this.inFlight]);
    this.agent.destroy();
  }

  private tick(): void {
    const elapsedS = (performance.now() - this.started) / 1000;
    const { rates } = this.options;
    const perType: [RequestType, number][] = [
      ['warm', rates.warmPerSecond],
      ['cold', rates.coldPerSecond],
      ['feedback', rates.feedbackPerSecond],
      ['api', rates.apiPerSecond],
    ];
    for (const [type, rate] of perType) {
      // The n-th call of a type is due at n / rate seconds (the first at once).
      while (rate > 0 && this.sent[type] <= elapsedS * rate) {
        const dueS = this.sent[type] / rate;
        this.sent[type]++;
        this.lateMs = Math.max(this.lateMs, (elapsedS - dueS) * 1000);
        if (this.inFlight.size >= this.options.maxInFlight) {
          this.tally[type].skipped++;
          this.tally[type].fail('in-flight cap');
          continue;
        }
        const work = this.one(type).catch((error: unknown) => void (this.benchProblem ??= `${type}: ${(error as Error).message}`));
        this.inFlight.add(work);
        void work.finally(() => this.inFlight.delete(work));
      }
    }
  }

  private async one(type: RequestType): Promise<void> {
    switch (type) {
      case 'warm':
        return this.warm();
      case 'cold':
        return this.cold();
      case 'feedback':
        return this.feedback();
      case 'api':
        return this.api();
      default: {
        const never: never = type;
        throw new Error(`unknown request type ${String(never)}`);
      }
    }
  }

  private pick(): SoakPatient {
    const { patients, random } = this.options;
    return patients[Math.floor(random() * patients.length)]!;
  }

  /** Runs one call and tallies it in the minute it completes; `check` says what is wrong with a 2xx answer. */
  private async timed(type: RequestType, run: () => Promise<Answer>, check: (answer: Answer) => string | undefined): Promise<Answer | undefined> {
    const started = performance.now();
    try {
      const answer = await run();
      this.tally[type].record(answer.ms, answer.status < 200 || answer.status > 299 ? `HTTP ${answer.status}` : check(answer));
      return answer;
    } catch (error) {
      this.tally[type].record(performance.now() - started, (error as NodeJS.ErrnoException).code ?? (error as Error).message);
      return undefined;
    }
  }

  private postHook(type: 'warm' | 'cold', body: string): Promise<Answer | undefined> {
    const token = this.hookTokens.take();
    if (token === undefined) {
      this.tally[type].fail('no token');
      return Promise.resolve(undefined);
    }
    return this.timed(type, () => call(this.agent, this.options.baseUrl + HOOK_PATH, 'POST', { authorization: `Bearer ${token}` }, body), (a) => this.hookProblem(a));
  }

  /** The patient's body as last answered: its assessment is in the cache. */
  private async warm(): Promise<void> {
    await this.postHook('warm', hookBody(this.pick(), randomUUID()));
  }

  /** The next patient in turn with its weight nudged: a new assessment key; the tensor cache is too small to still hold the radiograph. */
  private async cold(): Promise<void> {
    const { patients, stack } = this.options;
    const patient = patients[this.nextCold++ % patients.length]!;
    const nudge = patient.nudges + 1;
    const parts = bodyParts(stack.smart.fhir.baseUrl, patient.id, nudgedPrefetch(patient.prefetch, nudge));
    const hookInstance = randomUUID();
    this.coldInstances.add(hookInstance);
    const answer = await this.postHook('cold', hookBody({ ...patient, ...parts }, hookInstance));
    if (answer?.status === 200 && this.hookProblem(answer) === undefined) {
      // From now on the warm calls send this body, whose assessment is cached.
      Object.assign(patient, parts, { nudges: nudge });
      this.coldOk++;
    }
  }

  private async feedback(): Promise<void> {
    const card = this.cards[this.nextCard++ % Math.max(1, this.cards.length)];
    if (!card) {
      this.tally.feedback.fail('no card to give feedback on');
      return;
    }
    const token = this.feedbackTokens.take();
    if (token === undefined) {
      this.tally.feedback.fail('no token');
      return;
    }
    // Alternately accepted (with the suggestion) and overridden (with one of the card's reasons), where the card offers them.
    const accept = this.feedbackSent++ % 2 === 0;
    const item: Record<string, unknown> = { card: card.uuid, outcome: accept ? 'accepted' : 'overridden', outcomeTimestamp: new Date().toISOString() };
    if (accept && card.suggestion) item.acceptedSuggestions = [{ id: card.suggestion }];
    if (!accept && card.reason) item.overrideReason = { reason: card.reason, userComment: 'bench/soak' };
    const body = JSON.stringify({ feedback: [item] });
    await this.timed('feedback', () => call(this.agent, this.options.baseUrl + FEEDBACK_PATH, 'POST', { authorization: `Bearer ${token}` }, body), () => undefined);
  }

  /** The SMART app's first call: the assessment, with an access token minted for the patient by the EHR's token service. */
  private async api(): Promise<void> {
    const { baseUrl, stack } = this.options;
    const patient = this.pick();
    let token: string;
    try {
      token = await stack.accessToken(patient.id);
    } catch (error) {
      this.tally.api.fail(`access token: ${(error as Error).message}`);
      return;
    }
    const headers = { authorization: `Bearer ${token}`, 'x-fhir-server': stack.smart.fhir.baseUrl };
    await this.timed('api', () => call(this.agent, `${baseUrl}/api/patients/${encodeURIComponent(patient.id)}/assessment`, 'GET', headers), (a) => {
      const status = (JSON.parse(a.text) as { status?: string }).status;
      return status === 'assessed' ? undefined : `answered "${String(status)}"`;
    });
  }

  /** What is wrong with a hook answer (lowRiskCard is on: every assessed patient gets a card); keeps its cards for feedback. */
  private hookProblem(answer: Answer): string | undefined {
    if (answer.status !== 200) return `HTTP ${answer.status}`;
    const cards = (JSON.parse(answer.text) as { cards?: Card[] }).cards ?? [];
    if (cards.length === 0) return 'no card';
    for (const card of cards) {
      if (!card.uuid) continue;
      const issued: IssuedCard = { uuid: card.uuid };
      const suggestion = card.suggestions?.find((s) => s.uuid)?.uuid;
      if (suggestion) issued.suggestion = suggestion;
      if (card.overrideReasons?.[0]) issued.reason = card.overrideReasons[0];
      // The last 500 cards issued: feedback refers to recent cards, as clinicians' clicks do.
      this.cards[this.cardsIssued++ % 500] = issued;
    }
    return undefined;
  }
}
