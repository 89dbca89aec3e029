/**
 * The look shared by every page serve-dir makes (listings, error pages): system
 * fonts, light and dark, readable on a phone. Inline, so a page makes no request
 * of its own.
 */
export const BASE_STYLE = `
:root{--fg:#1f2328;--bg:#fff;--muted:#59636e;--link:#0969da;--line:#d1d9e0;--hover:#f6f8fa}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--bg:#0d1117;--muted:#9198a1;--link:#4493f8;--line:#3d444d;--hover:#151b23}}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:64rem;margin:0 auto;padding:1rem}
h1{font-size:1.25rem;font-weight:600;margin:.25rem 0 1rem;overflow-wrap:anywhere}
a{color:var(--link);text-decoration:none}
a:hover,a:focus-visible{text-decoration:underline}
`;
