/**
 * vitest globalSetup: one PostgreSQL 15 cluster for the whole test run
 * (scripts/postgres.sh installs what is missing, initdb's a temporary
 * cluster, starts it on a free loopback port). If it cannot start, the run
 * fails here, loudly: the PostgreSQL tests are never silently skipped.
 */
import type { TestProject } from 'vitest/node';
import { startCluster } from './helpers/postgres.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const cluster = await startCluster();
  project.provide('postgresUrl', cluster.url);
  return () => cluster.destroy();
}
