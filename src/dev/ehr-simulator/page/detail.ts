// A card's markdown detail into the page: markdownToHtml (safe by construction), then DOMPurify with a
// short allow-list, so that no markup from a CDS service reaches the DOM unsanitised even if the
// markdown step let something through. Links open in a new tab without opener or referrer.
import DOMPurify from 'dompurify';
import { h } from './dom.js';
import { markdownToHtml, safeUrl } from './markdown.js';

const ALLOWED_TAGS = ['p', 'br', 'strong', 'em', 'del', 'code', 'pre', 'blockquote', 'ul', 'ol', 'li', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'a', 'hr', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6'];
const ALLOWED_ATTR = ['href', 'title', 'target', 'rel', 'align', 'start'];

let hooked = false;
function addLinkHook(): void {
  if (hooked) return;
  hooked = true;
  DOMPurify.addHook('afterSanitizeAttributes', (element) => {
    if (element.tagName !== 'A') return;
    const href = safeUrl(element.getAttribute('href'));
    if (href === null) element.removeAttribute('href');
    element.setAttribute('target', '_blank');
    element.setAttribute('rel', 'noopener noreferrer');
  });
}

export function sanitizedDetail(markdown: string, id: string): HTMLElement {
  addLinkHook();
  const html = DOMPurify.sanitize(markdownToHtml(markdown), { ALLOWED_TAGS, ALLOWED_ATTR, ALLOW_DATA_ATTR: false, ALLOW_ARIA_ATTR: false });
  const container = h('div', { class: 'card-detail', id });
  container.innerHTML = html;
  return container;
}
