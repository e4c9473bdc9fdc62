// What the page shows of a card, worked out without the DOM (unit-tested in Node): the indicator's word
// and order, which links and source URLs may be followed, the suggestions' keys, override reason
// labels, and dates and durations in words.
import type { Card, Link } from '../../../cds/types.js';
import type { CardEntry } from '../api-contract.js';
import { safeUrl } from './markdown.js';

export type Indicator = Card['indicator'];

/** Never colour alone: each indicator has a word and a symbol. */
export const INDICATORS: Readonly<Record<Indicator, { word: string; symbol: string; rank: number }>> = {
  critical: { word: 'Critical', symbol: '!', rank: 0 },
  warning: { word: 'Warning', symbol: '▲', rank: 1 },
  info: { word: 'Info', symbol: 'i', rank: 2 },
};

export function indicatorOf(card: Card): { indicator: Indicator; word: string; symbol: string } {
  const indicator: Indicator = card.indicator in INDICATORS ? card.indicator : 'info';
  return { indicator, word: INDICATORS[indicator].word, symbol: INDICATORS[indicator].symbol };
}

/** The most urgent first; the services' order otherwise. */
export function byUrgency(entries: readonly CardEntry[]): CardEntry[] {
  return entries
    .map((entry, index) => ({ entry, index }))
    .sort((a, b) => INDICATORS[indicatorOf(a.entry.card).indicator].rank - INDICATORS[indicatorOf(b.entry.card).indicator].rank || a.index - b.index)
    .map(({ entry }) => entry);
}

/** The source link, when it has an http(s) URL. */
export function sourceLink(card: Card): { label: string; url: string | null } {
  const url = safeUrl(card.source.url);
  return { label: card.source.label, url: url !== null && !url.startsWith('mailto:') ? url : null };
}

export interface LinkView {
  label: string;
  kind: 'smart' | 'absolute';
  /** For absolute links, the URL to open; null when it is not http(s). */
  href: string | null;
  link: Link;
}

export function linksOf(card: Card): LinkView[] {
  return (card.links ?? []).map((link) => {
    const href = safeUrl(link.url);
    return { label: link.label, kind: link.type === 'smart' ? 'smart' : 'absolute', href: href !== null && !href.startsWith('mailto:') ? href : null, link };
  });
}

/** How the page names a suggestion to the server: its uuid, or `#<index>`. */
export const suggestionKey = (uuid: string | undefined, index: number): string => uuid ?? `#${index}`;

export function reasonLabel(reason: { code?: string; display?: string }): string {
  return reason.display ?? reason.code ?? 'Reason';
}

// As the service's cards write dates (en-GB, e.g. "21 Dec 2025"), so the chart and the cards read alike.
const DAY = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
const MONTH = new Intl.DateTimeFormat('en-GB', { month: 'short', year: 'numeric', timeZone: 'UTC' });

/** A FHIR date or dateTime as "21 Dec 2025" (the date as written, no time-zone shift); the input when unreadable. */
export function formatDate(value: string | undefined | null): string {
  if (!value) return '';
  const match = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?/.exec(value);
  if (!match) return value;
  const [, year, month, day] = match.map(Number) as [number, number, number | undefined, number | undefined];
  if (month === undefined || Number.isNaN(month) || month < 1 || month > 12) return String(year);
  if (day === undefined || Number.isNaN(day)) return MONTH.format(Date.UTC(year, month - 1, 1));
  return DAY.format(Date.UTC(year, month - 1, day));
}

export function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
