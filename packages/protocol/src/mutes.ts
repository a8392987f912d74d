/**
 * The wire's "forever" for a chat mute or do-not-disturb: the largest integer a JavaScript
 * number holds exactly (2^53-1), so every client and both stores keep it without rounding.
 */
export const MUTE_FOREVER = 9_007_199_254_740_991;
