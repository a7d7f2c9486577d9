// The page-wide state both components share: {plotly: Promise|null, webgl, memory: {viewer key:
// {...}}, ...} on window.__lumbar3d. Each component is served under its own URL, so each may get
// its own copy of every module; this one object is what they share, and it outlives component
// remounts (a page reload starts it afresh). A module of its own so the body chart reads it
// without loading the Plotly loader and its workarounds.
export function shared() {
  return (window.__lumbar3d ??= { plotly: null, webgl: undefined, memory: {} });
}
