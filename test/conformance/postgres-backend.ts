/** The PostgreSQL backend of the conformance suite (added with the PostgreSQL store). */
import type { Backend } from './backends.js';

export async function postgresBackend(): Promise<Backend[]> {
  return [];
}
