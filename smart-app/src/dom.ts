// A small element builder. Text always goes in as text nodes, never as HTML, so nothing the FHIR
// server or the service sends can become markup.

type AttrValue = string | number | boolean | null | undefined;
export type Attrs = Record<string, AttrValue | ((event: Event) => void)>;
export type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attrs | null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (typeof value === 'function') el.addEventListener(name.replace(/^on/, ''), value);
    else if (value === true) el.setAttribute(name, '');
    else if (value !== false && value !== null && value !== undefined) el.setAttribute(name, String(value));
  }
  append(el, children);
  return el;
}

export function append(parent: Element, children: readonly Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
}

/** Replaces an element's content. */
export function fill(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

/** A table with a caption, column headers (`scope="col"`) and rows whose first cell is a row header. */
export function table(caption: string, headers: readonly string[], rows: readonly (readonly Child[])[], attrs: Attrs = {}): HTMLTableElement {
  return h(
    'table',
    attrs,
    h('caption', null, caption),
    h('thead', null, h('tr', null, ...headers.map((text) => h('th', { scope: 'col' }, text)))),
    h('tbody', null, ...rows.map(([first, ...rest]) => h('tr', null, h('th', { scope: 'row' }, first), ...rest.map((cell) => h('td', null, cell))))),
  );
}

/** Text only screen readers read. */
export function hidden(text: string): HTMLSpanElement {
  return h('span', { class: 'vh' }, text);
}
