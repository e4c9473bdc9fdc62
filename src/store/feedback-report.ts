// Plain-text table of feedback counts for the feedback-report command.
import type { FeedbackSummaryRow } from './store.js';

export function formatFeedbackSummary(rows: readonly FeedbackSummaryRow[]): string {
  if (rows.length === 0) return 'No feedback recorded.\n';
  const header = ['service', 'card topic', 'risk band', 'outcome', 'override reason', 'count'];
  const body = rows.map((r) => [r.serviceId, r.cardTopic, r.band, r.outcome, r.reason, String(r.count)]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === header.length - 1 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  const totals = new Map<string, { accepted: number; overridden: number }>();
  for (const r of rows) {
    const key = [r.serviceId, r.cardTopic, r.band].filter((part) => part !== '').join('  ');
    const t = totals.get(key) ?? { accepted: 0, overridden: 0 };
    t[r.outcome] += r.count;
    totals.set(key, t);
  }
  const summary = [...totals].map(([key, t]) => `${key}: ${t.accepted} accepted, ${t.overridden} overridden`);
  return `${[line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n')}\n\n${summary.join('\n')}\n`;
}
