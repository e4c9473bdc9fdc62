// The EHR's SMART style (`smart_style_url`) as CSS custom properties. Only values that parse are
// used, and colours only where they keep WCAG AA contrast with their partner (text on background,
// white on the highlight); the risk-band colours are the app's own and never restyled. Pure.

export type StyleVariables = Record<string, string>;

type Rgb = [number, number, number];

/** #rgb or #rrggbb (what SMART styles use) → [r, g, b]; anything else → null. */
export function parseHex(colour: unknown): Rgb | null {
  if (typeof colour !== 'string') return null;
  const m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(colour.trim());
  if (!m) return null;
  const hex = (m[1] as string).length === 3 ? [...(m[1] as string)].map((c) => c + c).join('') : (m[1] as string);
  return [0, 2, 4].map((i) => Number.parseInt(hex.slice(i, i + 2), 16)) as Rgb;
}

function luminance([r, g, b]: Rgb): number {
  const lin = (c: number): number => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

/** WCAG contrast ratio, 1–21. */
export function contrast(a: Rgb, b: Rgb): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

const DEFAULT_TEXT: Rgb = [27, 31, 36];
const DEFAULT_BACKGROUND: Rgb = [255, 255, 255];
const WHITE: Rgb = [255, 255, 255];

/** A length such as `4px`, `0.5rem`, `1em`, kept within [min, max] pixels (em/rem taken as 16 px). */
function length(value: unknown, min: number, max: number): string | null {
  if (typeof value !== 'number' && typeof value !== 'string') return null;
  const m = /^(\d+(?:\.\d+)?)(px|rem|em)?$/.exec(String(value).trim());
  if (!m) return null;
  const px = Number(m[1]) * (m[2] === 'rem' || m[2] === 'em' ? 16 : 1);
  return px >= min && px <= max ? `${px}px` : null;
}

/** A font-family list of names only (letters, digits, spaces, quotes, commas, hyphens). */
function fontFamily(value: unknown): string | null {
  return typeof value === 'string' && value.length <= 200 && /^[\w\s,'"-]+$/.test(value) ? value : null;
}

const hex = ([r, g, b]: Rgb): string => `#${[r, g, b].map((c) => c.toString(16).padStart(2, '0')).join('')}`;

/** SMART style JSON → CSS custom properties the stylesheet reads (`--bg`, `--fg`, `--accent`, …). */
export function smartStyleVariables(style: unknown): StyleVariables {
  if (typeof style !== 'object' || style === null || Array.isArray(style)) return {};
  const s = style as Record<string, unknown>;
  const vars: StyleVariables = {};
  const text = parseHex(s.color_text);
  const background = parseHex(s.color_background);
  const fg = text ?? DEFAULT_TEXT;
  const bg = background ?? DEFAULT_BACKGROUND;
  // Text and background are taken together or not at all: half a palette can be unreadable.
  if ((text || background) && contrast(fg, bg) >= 4.5) {
    if (text) vars['--fg'] = hex(text);
    if (background) vars['--bg'] = hex(background);
  }
  const paper = vars['--bg'] ? bg : DEFAULT_BACKGROUND;
  const highlight = parseHex(s.color_highlight);
  // Buttons put white text on the highlight; it must also stand out from the page (3:1, non-text).
  if (highlight && contrast(highlight, WHITE) >= 4.5 && contrast(highlight, paper) >= 3) vars['--accent'] = hex(highlight);
  const error = parseHex(s.color_error);
  if (error && contrast(error, paper) >= 4.5) vars['--error'] = hex(error);
  const success = parseHex(s.color_success);
  if (success && contrast(success, paper) >= 4.5) vars['--success'] = hex(success);
  const radius = length(s.dim_border_radius, 0, 24);
  if (radius) vars['--radius'] = radius;
  const fontSize = length(s.dim_font_size, 12, 22);
  if (fontSize) vars['--font-size'] = fontSize;
  const spacing = length(s.dim_spacing_size, 4, 32);
  if (spacing) vars['--space'] = spacing;
  const body = fontFamily(s.font_family_body);
  if (body) vars['--font-body'] = body;
  const heading = fontFamily(s.font_family_heading);
  if (heading) vars['--font-heading'] = heading;
  return vars;
}
