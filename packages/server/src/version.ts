/** The server's own version, reported in `welcome`. */
export const SERVER_VERSION = '0.1.0';
