// A card's `detail` (GitHub-flavoured markdown from the CDS service) to HTML, safe by construction:
// raw HTML in the markdown is shown as text, links keep only http(s) and mailto URLs (and open in a
// new tab without an opener), and images become their alt text (no remote loads from a card). Pure, so
// it is unit-tested in Node; the browser also runs the result through DOMPurify (detail.ts).
import { Marked, type Tokens } from 'marked';

const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

/** The URL when it is absolute http(s) or mailto, else null. */
export function safeUrl(href: string | null | undefined): string | null {
  if (typeof href !== 'string') return null;
  const url = URL.parse(href.trim());
  return url !== null && (url.protocol === 'http:' || url.protocol === 'https:' || url.protocol === 'mailto:') ? url.href : null;
}

const marked = new Marked({
  gfm: true,
  breaks: false,
  async: false,
  renderer: {
    html({ text }: Tokens.HTML | Tokens.Tag): string {
      return escapeHtml(text);
    },
    link({ href, title, tokens }: Tokens.Link): string {
      const label = this.parser.parseInline(tokens);
      const url = safeUrl(href);
      if (url === null) return label;
      const titled = title ? ` title="${escapeHtml(title)}"` : '';
      return `<a href="${escapeHtml(url)}"${titled} target="_blank" rel="noopener noreferrer">${label}</a>`;
    },
    image({ text }: Tokens.Image): string {
      return text ? `[image: ${escapeHtml(text)}]` : '';
    },
  },
});

export function markdownToHtml(markdown: string): string {
  return marked.parse(markdown, { async: false });
}
