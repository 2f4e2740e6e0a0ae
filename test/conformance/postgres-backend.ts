/** The PostgreSQL backend of the conformance suite: a database of its own in the run's cluster. */
import { startKeytally } from '../helpers/server.js';
import { freshDatabase } from '../helpers/postgres.js';
import { COMMON_ARGS, type Backend } from './backends.js';

export async function postgresBackend(): Promise<Backend[]> {
  const url = await freshDatabase('kt_conformance');
  return [
    {
      name: 'postgres',
      start: (extra = []) => startKeytally({ args: [...COMMON_ARGS, '--store', 'postgres', '--postgres-url', url, ...extra] }),
      skip: {},
      url,
    },
  ];
}
