/** `parley serve`: everything (flags, --help, signals) is handled by @parley/server. */
export async function run(argv: string[]): Promise<number | undefined> {
  // Imported here so that other commands never load the server and its native driver.
  const { serveMain } = await import('@parley/server');
  await serveMain(argv);
  return undefined; // the server keeps the process alive until it is stopped
}
