/** `parley migrate`: handled by @parley/server (loaded only for this command). */
export async function run(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { migrateMain } = await import('@parley/server');
  return migrateMain(argv, env);
}
