// A small stand-in for the DOM the body chart touches (tests/js/bodychart_svg.test.js and
// chart2d.test.js): elements with attributes, styles, children and listeners, and a log of every
// attribute and style write (what a change costs).
export class FakeNode {
  constructor(doc, tag) {
    this.ownerDocument = doc;
    this.tagName = tag;
    this.attrs = new Map();
    this.children = [];
    this.parentNode = null;
    this.listeners = {};
    this.hidden = false;
    const log = doc.log;
    const style = {};
    this.style = new Proxy(style, {
      set: (o, k, v) => { o[k] = v; log.push(["style", tag, k, v]); return true; },
      get: (o, k) => (k === "setProperty" ? (name, v) => { o[name] = v; log.push(["style", tag, name, v]); } : o[k]),
    });
    this.dataset = {};
    this.clientWidth = 600;
    this.classList = { contains: (c) => (this.attrs.get("class") || this.className || "").split(" ").includes(c) };
  }
  setAttribute(k, v) { this.attrs.set(k, String(v)); this.ownerDocument.log.push(["attr", this.tagName, k, String(v)]); }
  getAttribute(k) { return this.attrs.has(k) ? this.attrs.get(k) : null; }
  removeAttribute(k) { this.attrs.delete(k); }
  appendChild(c) { c.remove(); c.parentNode = this; this.children.push(c); return c; }
  append(...cs) { cs.forEach((c) => this.appendChild(c)); }
  insertBefore(c, ref) {
    c.remove();
    c.parentNode = this;
    const i = ref ? this.children.indexOf(ref) : -1;
    if (i < 0) this.children.push(c); else this.children.splice(i, 0, c);
    return c;
  }
  remove() {
    if (this.parentNode) this.parentNode.children = this.parentNode.children.filter((c) => c !== this);
    this.parentNode = null;
  }
  set textContent(v) { this.children = []; this.text = String(v); }
  get textContent() { return (this.text ?? "") + this.children.map((c) => c.textContent).join(""); }
  closest(sel) {
    const attr = /^\[([a-z-]+)\]$/.exec(sel)?.[1];
    for (let n = this; n; n = n.parentNode) if (attr && n.attrs?.has(attr)) return n;
    return null;
  }
  addEventListener(type, f) { (this.listeners[type] ??= []).push(f); }
  fire(type, ev) { for (const f of this.listeners[type] || []) f(ev); }
  getBoundingClientRect() { return { left: 0, top: 0, width: 600, height: 620 }; }
  get offsetWidth() { return 100; }
  get offsetHeight() { return 40; }
  all() { return [this, ...this.children.flatMap((c) => c.all())]; }
  get isConnected() { return true; }
  // only what chart2d.js asks: ":scope > .class" among the children
  querySelector(sel) {
    const cls = /^:scope > \.([\w-]+)$/.exec(sel)?.[1];
    return cls ? this.children.find((c) => (c.className || c.attrs.get("class")) === cls) ?? null : null;
  }
}

export function fakeDocument() {
  const doc = { log: [] };
  doc.createElementNS = (ns, tag) => new FakeNode(doc, tag);
  doc.createElement = (tag) => (tag === "canvas" ? { getContext: () => null } : new FakeNode(doc, tag));
  doc.querySelector = () => null;
  return doc;
}

