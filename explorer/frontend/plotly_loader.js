// The one loader of the locally served plotly.min.js (the 3D viewer's; the body chart draws
// without Plotly). What must be shared across module copies lives on the page-wide object of
// page_shared.js, so one promise loads Plotly once per page.

import { readbackCanvasesWhileLoading, Workarounds } from "./gl_workarounds.js";
import { shared } from "./page_shared.js";

export { shared };  // the window-level state (page_shared.js), for the viewer

// The workaround switches for this page (see gl_workarounds.js), made once.
export function workarounds(off) {
  const G = shared();
  if (!G.workarounds) {
    let stored = "";
    try { stored = window.localStorage?.getItem("lumbar.no_workarounds") || ""; } catch (e) { /* no storage */ }
    G.workarounds = new Workarounds({ off: off || [], search: window.location.search, stored });
  }
  return G.workarounds;
}

// Load plotly.min.js from `url` once per page. `version` is the plotly.js version Python read
// from the file (the readbackCanvases workaround is guarded on it before Plotly exists).
export function loadPlotly(url, version, off) {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  const G = shared();
  if (!G.plotly) {
    G.plotly = new Promise((resolve, reject) => {
      const s = document.createElement("script");
      s.src = url;
      s.async = true;
      s.dataset.lumbarPlotly = "1";
      const restore = workarounds(off).enabled("readbackCanvases", version)
        ? readbackCanvasesWhileLoading(HTMLCanvasElement.prototype) : () => {};
      s.addEventListener("load", () => {
        restore();
        window.Plotly ? resolve(window.Plotly) : reject(new Error("window.Plotly missing"));
      });
      s.addEventListener("error", () => {
        restore();
        s.remove();
        const err = new Error("could not load " + url);
        err.isLoadError = true;
        reject(err);
      });
      document.head.appendChild(s);
    });
    G.plotly.catch(() => { G.plotly = null; });  // let a later rerun retry
  }
  return G.plotly;
}
