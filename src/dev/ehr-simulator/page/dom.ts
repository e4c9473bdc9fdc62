// The slice of the browser DOM the page uses, typed here. The project's TypeScript configuration has no
// DOM library (server code must not see browser globals, and adding it changes server typings), so the
// page reaches `document` and `window` through globalThis with these interfaces; the browser test
// drives every path in real Chromium. Plus `h()`, the page's one way of making elements: text always
// goes in as text nodes, never as markup (the sanitised card detail is the only HTML, see detail.ts).

export interface DomEvent {
  /** Keyboard events only. */
  readonly key?: string;
  readonly target: unknown;
  preventDefault(): void;
}

export interface El {
  id: string;
  className: string;
  textContent: string | null;
  hidden: boolean;
  tabIndex: number;
  readonly dataset: Record<string, string | undefined>;
  readonly classList: { add(...tokens: string[]): void; remove(...tokens: string[]): void; toggle(token: string, force?: boolean): boolean };
  setAttribute(name: string, value: string): void;
  getAttribute(name: string): string | null;
  removeAttribute(name: string): void;
  append(...nodes: Array<El | string>): void;
  replaceChildren(...nodes: Array<El | string>): void;
  addEventListener(type: string, listener: (event: DomEvent) => void): void;
  querySelector(selector: string): El | null;
  querySelectorAll(selector: string): ArrayLike<El>;
  focus(): void;
}

/** Buttons, inputs, selects and textareas. */
export interface Control extends El {
  value: string;
  checked: boolean;
  disabled: boolean;
}

/** An element whose markup is set: only for sanitised HTML. */
export interface HtmlSink extends El {
  innerHTML: string;
}

export interface Popup {
  opener: unknown;
  location: { href: string };
  close(): void;
}

interface BrowserDocument {
  createElement(tag: string): El;
  getElementById(id: string): El | null;
  readonly activeElement: El | null;
  title: string;
}

interface BrowserWindow {
  open(url: string, target: string): Popup | null;
}

const browser = globalThis as unknown as { document: BrowserDocument; window: BrowserWindow };
export const doc = browser.document;
export const win = browser.window;

type Child = El | string | null | undefined | false;
type Attribute = string | number | boolean | undefined;

/** An element with attributes (`class` sets className; true sets an empty attribute; false/undefined are left out) and children. */
export function h(tag: string, attributes: Record<string, Attribute> = {}, ...children: Child[]): El {
  const element = doc.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (name === 'class') element.className = String(value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  element.append(...children.filter((c): c is El | string => c !== null && c !== undefined && c !== false));
  return element;
}

/** An element the page's HTML is known to have. */
export function byId<T extends El = El>(id: string): T {
  const element = doc.getElementById(id);
  if (element === null) throw new Error(`the page has no #${id}`);
  return element as T;
}
