/** 003: each member's read position (unread counts are kept per user). Never edit once landed. */
export const sql = `
ALTER TABLE members ADD COLUMN read_seq INTEGER NOT NULL DEFAULT 0;
`;
