// The page's one way of making elements, `h()`: text always goes in as text nodes, never as markup (the
// sanitised card detail is the only HTML, see detail.ts). The page has its own tsconfig with the DOM
// library, so these are the browser's own types; the server's tsconfig never sees them.

type Child = Node | string | null | undefined | false;
type Attribute = string | number | boolean | undefined;

/** An element with attributes (`class` sets className; true sets an empty attribute; false/undefined are left out) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Record<string, Attribute> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (name === 'class') element.className = String(value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  element.append(...children.filter((c): c is Node | string => c !== null && c !== undefined && c !== false));
  return element;
}

/** An element the page's HTML is known to have, checked to be of the expected kind. */
export function byId<T extends HTMLElement = HTMLElement>(id: string, kind?: new () => T): T {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`the page has no #${id}`);
  if (kind !== undefined && !(element instanceof kind)) throw new Error(`#${id} is not a ${kind.name}`);
  return element as T;
}
