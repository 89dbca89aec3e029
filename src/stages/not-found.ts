import { finishing } from '../context.js';
import { settleMiss } from '../respond.js';

/**
 * The one place a miss is settled, after every stage that could have found
 * something: `next()` in middleware mode, else the site's 404.html or our page.
 * Earlier stages only record a miss (`fail(ctx, 404)`), so a later feature can
 * still recover it.
 */
export const settleNotFound = finishing(settleMiss);
