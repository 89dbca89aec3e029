import { STATUS_CODES } from 'node:http';
import { escapeHtml, visibleName } from './listing/format.js';
import { ERROR_STYLE, htmlPage } from './page-style.js';

/** A link out of an error page: `href` is a path already percent-encoded, `label` plain text. */
export interface PageLink {
  href: string;
  label: string;
  /** Plain text after the link, saying where it goes. */
  note?: string;
}

/**
 * What an error page says. `explanation` and `hint` are trusted HTML written in
 * this code base (they may hold `<code>`), never text from a request; links are
 * escaped here.
 */
export interface ErrorPageContent {
  status: number;
  /** Defaults to the reason phrase (`Not Found`). */
  title?: string;
  /** Why, in a sentence; defaults to the one for the status, if any. */
  explanation?: string;
  /** What to do about it, shown quieter. */
  hint?: string;
  links?: readonly PageLink[];
}

/**
 * The sentence each status gets when the caller has no better one: plain words,
 * saying what happened and what to do. Never a server path, never the request.
 */
const EXPLANATIONS: Record<number, string> = {
  301: 'This address has moved; the browser follows it by itself.',
  400: 'The request could not be understood: its address or headers are malformed.',
  401: 'This page asks for a user name and password.',
  403: 'This file or folder may not be shown.',
  404: 'Nothing is served at this address. Check the spelling, or start again from a folder below.',
  405: 'This server serves files: it answers GET and HEAD requests only.',
  412: 'The file has changed since the copy this request was based on. Reload to get the current version.',
  414: 'The address is too long for this server.',
  416: 'The range of bytes asked for lies outside the file. Ask without a Range header to get all of it.',
  500: 'Something went wrong inside the server. The details are in its log; other requests are still served.',
  502: 'The server this one forwards to gave no valid answer. Check that it is running.',
  503: 'The server is too busy to answer right now. Try again in a moment.',
  504: 'The server this one forwards to did not answer in time.',
};

/** A complete, self-contained HTML page for an error status (or a redirect). */
export function renderErrorPage(content: ErrorPageContent): string {
  const { status } = content;
  const title = escapeHtml(content.title ?? STATUS_CODES[status] ?? 'Error');
  const explanation = content.explanation ?? EXPLANATIONS[status];
  // `404 Not Found` as the heading and the title: what people search for, and what tests look for.
  const parts = [`<h1>${status} ${title}</h1>`];
  if (explanation !== undefined) parts.push(`<p>${explanation}</p>`);
  if (content.hint !== undefined) parts.push(`<p class="hint">${content.hint}</p>`);
  const links = content.links ?? [];
  if (links.length > 0) {
    // The whole row is the link: a large target on a phone, even for a label as short as '/'.
    const items = links.map(
      (link) =>
        `<li><a href="${escapeHtml(link.href)}"><span class="path" dir="auto">${escapeHtml(visibleName(link.label))}</span>` +
        `${link.note === undefined ? '' : ` <span class="note">${escapeHtml(link.note)}</span>`}</a></li>`,
    );
    parts.push(`<ul>\n${items.join('\n')}\n</ul>`);
  }
  return htmlPage(`${status} ${title}`, ERROR_STYLE, `${parts.join('\n')}\n`);
}
