/** `parley admin`: handled by @parley/server (it opens the node's store directly). */
export async function run(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { adminMain } = await import('@parley/server');
  return adminMain(argv, env);
}
