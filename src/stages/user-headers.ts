import type { OutgoingHttpHeaders } from 'node:http';
import type { RequestContext } from '../context.js';
import { applyUserHeaders, type HeaderRules } from '../http/header-rules.js';

/**
 * `-H` and the path-scoped `headers` rules, put over a response's assembled headers
 * (a flat [name, value, ...] list, as writeHead takes it): one value per name, the
 * user's (applyUserHeaders says why Vary is joined instead).
 *
 * Scoped rules match the mapped URL path; an answer given before the path guard (a
 * 400 or 403 for the Host, a 401, a 405) gets the `-H` headers only, matched as ''.
 */
export function withUserHeaders(ctx: RequestContext, rules: HeaderRules, list: Array<string | number>): Array<string | number> {
  const user = rules.forPath(ctx.target?.urlPath ?? '');
  if (user.length === 0) return list;
  const builtIn: OutgoingHttpHeaders = {};
  for (let i = 0; i < list.length; i += 2) builtIn[list[i] as string] = list[i + 1];
  const merged = applyUserHeaders(builtIn, user);
  const result: Array<string | number> = [];
  for (const name in merged) result.push(name, merged[name] as string | number);
  return result;
}
