import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * Which config file to use: `--config`, else `PARLEY_CONFIG`, else `./parley.yaml` when it
 * exists; undefined means "no config": the demo on embedded defaults.
 */
export function findConfigPath(flag: string | undefined, env: NodeJS.ProcessEnv, cwd: string): string | undefined {
  const explicit = flag ?? env.PARLEY_CONFIG;
  if (explicit) return path.resolve(cwd, explicit);
  const conventional = path.resolve(cwd, 'parley.yaml');
  return existsSync(conventional) ? conventional : undefined;
}
