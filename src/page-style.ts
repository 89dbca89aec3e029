import { createHash } from 'node:crypto';

/**
 * The look shared by every page serve-dir makes (listings, error pages): system
 * fonts, light and dark, readable on a phone. Inline, so a page makes no request
 * of its own.
 */
const BASE_STYLE = `
:root{--fg:#1f2328;--bg:#fff;--muted:#59636e;--link:#0969da;--line:#d1d9e0;--hover:#f6f8fa;--folder:#54aeff;--image:#1a7f37;--code:#8250df;--archive:#9a6700;--media:#cf222e}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--bg:#0d1117;--muted:#9198a1;--link:#4493f8;--line:#3d444d;--hover:#151b23;--folder:#4493f8;--image:#3fb950;--code:#ab7df8;--archive:#d29922;--media:#f85149}}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:64rem;margin:0 auto;padding:1rem}
h1{font-size:1.25rem;font-weight:600;margin:.25rem 0 1rem;overflow-wrap:anywhere}
a{color:var(--link);text-decoration:none}
a:hover,a:focus-visible{text-decoration:underline}
code{font:.9em ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:var(--hover);border:1px solid var(--line);border-radius:4px;padding:0 .25em}
`;

/**
 * An empty icon for the tab: without one, a browser asks for /favicon.ico on
 * every visit, and each ask is a 404 in the log. `data:` fetches nothing.
 */
const EMPTY_ICON = '<link rel="icon" href="data:,">';

/**
 * A whole generated page: `title` and `main` are HTML, escaped by the caller; `style` is
 * one of the stylesheets below, whose hash the page's Content-Security-Policy names.
 */
export function htmlPage(title: string, style: string, main: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${title}</title>
${EMPTY_ICON}
<style>${style}</style>
</head>
<body>
<main>
${main}</main>
</body>
</html>
`;
}

/**
 * The CSP source that allows exactly `css` as the text of a `<style>` element
 * (CSP 3 §8.3: the hash of the element's text, which must be byte for byte what
 * is hashed). Computed once, when the module loads.
 */
export function styleHashSource(css: string): string {
  return `'sha256-${createHash('sha256').update(css, 'utf8').digest('base64')}'`;
}

/**
 * A stroked 24×24 icon as a CSS mask: the shape is the SVG's, the colour the
 * element's own (`background: currentColor` or a kind's colour), so one icon
 * serves light and dark. Percent-encoded, as a `data:` URL in CSS should be.
 */
function icon(shapes: string, filled = false): string {
  const paint = filled ? "fill='black'" : "fill='none' stroke='black' stroke-width='2' stroke-linecap='round' stroke-linejoin='round'";
  const svg = `<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 24 24' ${paint}>${shapes}</svg>`;
  // Only what a quoted CSS url() or a data: URL cannot hold as is (and ':', so no scheme shows).
  return `url("data:image/svg+xml,${svg.replace(/[%#<>":]/g, (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`)}")`;
}

const FILE_OUTLINE = "<path d='M14 3H6.5A1.5 1.5 0 0 0 5 4.5v15A1.5 1.5 0 0 0 6.5 21h11a1.5 1.5 0 0 0 1.5-1.5V8zM14 3v5h5'/>";

/** The icons of the listing, by the class its links carry (see src/listing/kind.ts). */
const ICONS: Record<string, string> = {
  file: icon(FILE_OUTLINE),
  text: icon(`${FILE_OUTLINE}<path d='M8.5 13h7M8.5 17h7'/>`),
  dir: icon("<path d='M2.5 6A1.5 1.5 0 0 1 4 4.5h5l2 2h9A1.5 1.5 0 0 1 21.5 8v10.5A1.5 1.5 0 0 1 20 20H4a1.5 1.5 0 0 1-1.5-1.5z'/>", true),
  up: icon("<path d='M12 19V5M6 11l6-6 6 6'/>"),
  image: icon("<rect x='3' y='4' width='18' height='16' rx='2'/><circle cx='9' cy='9.5' r='1.5'/><path d='m21 15-4.5-4.5L6 20'/>"),
  code: icon("<path d='m8.5 7-5 5 5 5M15.5 7l5 5-5 5'/>"),
  archive: icon("<path d='M3 4.5h18v4H3zM4.5 8.5v10A1.5 1.5 0 0 0 6 20h12a1.5 1.5 0 0 0 1.5-1.5v-10M10 12.5h4'/>"),
  media: icon("<rect x='3' y='4' width='18' height='16' rx='2'/><path d='m10 9 5 3-5 3z'/>"),
};

const ICON_COLOURS: Record<string, string> = {
  dir: 'var(--folder)',
  up: 'var(--muted)',
  image: 'var(--image)',
  code: 'var(--code)',
  archive: 'var(--archive)',
  media: 'var(--media)',
};

const ICON_RULES = Object.entries(ICONS)
  .map(([kind, url]) => {
    const selector = kind === 'file' ? 'td.name a::before' : `td.name a.${kind}::before`;
    return `${selector}{mask-image:${url}${kind in ICON_COLOURS ? `;background:${ICON_COLOURS[kind]}` : ''}}`;
  })
  .join('\n');

/**
 * The listing's own rules. Names keep runs of spaces (`pre-wrap`: copied text
 * is the exact name) and wrap anywhere rather than widen the table; on a phone
 * the time of day and the "(UTC)" hide, so a date never wraps.
 */
export const LISTING_STYLE = `${BASE_STYLE}table{width:100%;border-collapse:collapse}
th,td{padding:.4rem .6rem;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{font-weight:600;white-space:nowrap}
th form{margin:0}
th button{font:inherit;color:inherit;background:none;border:0;padding:0;cursor:pointer;white-space:nowrap}
th button:hover,th button:focus-visible{text-decoration:underline}
tbody tr:hover{background:var(--hover)}
td.name{width:100%}
td.name a{display:block;position:relative;padding-left:1.6rem;text-align:left;white-space:pre-wrap;overflow-wrap:anywhere}
@supports (mask-size:contain){
td.name a::before{content:"";position:absolute;left:0;top:.15em;width:1.15em;height:1.15em;background:var(--muted);mask-size:contain;mask-repeat:no-repeat}
${ICON_RULES}
}
.dir{font-weight:600}
.size,.mtime,.mtime span{white-space:nowrap;font-variant-numeric:tabular-nums}
td.size,td.mtime{color:var(--muted)}
.size{text-align:right}
.empty{color:var(--muted);font-style:italic}
.paging{color:var(--muted);margin:.75rem 0}
@media (max-width:40rem){body{font-size:14px}main{padding:.5rem}th,td{padding:.4rem .3rem}.wide,td.mtime span+span{display:none}}
`;

/** Error pages: the status as the heading, the sentence, the way back. */
export const ERROR_STYLE = `${BASE_STYLE}main{max-width:40rem;padding:12vh 1.25rem 2rem}
h1{font-size:1.75rem;line-height:1.25;margin:0 0 1rem}
p{margin:0 0 1rem}
.hint{color:var(--muted)}
ul{list-style:none;margin:1.5rem 0 0;padding:0}
li{margin:.5rem 0}
li a{display:block;padding:.6rem .8rem;border:1px solid var(--line);border-radius:6px;overflow-wrap:anywhere}
li a:hover,li a:focus-visible{background:var(--hover);text-decoration:none}
.path{font-weight:600;white-space:pre-wrap}
.note{display:block;color:var(--muted);font-size:.875rem}
`;

/**
 * The pages we generate may load nothing: no script, no fetch, no frame; the
 * one inline stylesheet each has is allowed by its hash (so an escaping bug that
 * let markup in could not add a style of its own either), and images only as
 * `data:` (the listing's icons, the empty tab icon). Should a file name or a
 * request ever get markup into a page, the browser runs and fetches nothing.
 */
export const LISTING_POLICY = `default-src 'none'; style-src ${styleHashSource(LISTING_STYLE)}; img-src data:`;
export const ERROR_PAGE_POLICY = `default-src 'none'; style-src ${styleHashSource(ERROR_STYLE)}; img-src data:`;
