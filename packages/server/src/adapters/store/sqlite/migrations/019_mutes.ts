/**
 * 019: chat mutes and do-not-disturb. A member's mute of a chat lives on the member row and
 * the user's do-not-disturb on the user row (unix ms; 0 = off, 2^53-1 = until turned off),
 * so the push path reads both with the member row it already needs. Never edit once landed.
 */
export const sql = `
ALTER TABLE members ADD COLUMN muted_until INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN dnd_until INTEGER NOT NULL DEFAULT 0;
`;
