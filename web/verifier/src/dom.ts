/// <reference lib="dom" />
/**
 * Tiny DOM helpers. Text from the export is untrusted: it is only ever set as text content or as
 * attribute values, never parsed as HTML.
 */

/** Element options. */
export interface ElOptions {
  readonly class?: string;
  readonly text?: string;
  readonly attrs?: Readonly<Record<string, string>>;
}

/** Creates an HTML element with text and children. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  options: ElOptions = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (options.class) e.className = options.class;
  if (options.text !== undefined) e.textContent = options.text;
  for (const [k, v] of Object.entries(options.attrs ?? {})) e.setAttribute(k, v);
  for (const c of children) e.append(c);
  return e;
}

const SVG_NS = "http://www.w3.org/2000/svg";

/** Creates an SVG element with attributes. */
export function svg(
  tag: string,
  attrs: Readonly<Record<string, string | number>>,
  text?: string,
): SVGElement {
  const e = document.createElementNS(SVG_NS, tag) as SVGElement;
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

/** The element with `id`, which the page's HTML must contain. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`page is missing #${id}`);
  return e as T;
}

/** `2026-11-29T03:34:41.123Z` → `2026-11-29 03:34:41 UTC` (no locale, no time-zone guessing). */
export function formatTs(ts: string): string {
  return `${ts.slice(0, 10)} ${ts.slice(11, 19)} UTC`;
}

/** POSIX seconds → `2026-11-29 03:34:41 UTC`. */
export function formatPosix(seconds: number): string {
  return formatTs(new Date(seconds * 1000).toISOString());
}
