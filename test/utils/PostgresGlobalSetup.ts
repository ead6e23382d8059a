/**
 * Vitest global setup: one throwaway PostgreSQL server for the whole run
 * (see PostgresServer.ts), its URL provided to the tests as `pgUrl`
 * (`inject("pgUrl")`); each test file makes databases of its own on it
 * (test/utils/Postgres.ts). Stopped and removed when the run ends.
 * `CODETETHER_TEST_DATABASE_URL` points the tests at an existing server
 * instead (a superuser URL: the tests create databases).
 */
import type { TestProject } from "vitest/node"
import * as PostgresServer from "./PostgresServer.ts"

declare module "vitest" {
  export interface ProvidedContext {
    pgUrl: string
  }
}

export default async function setup(project: TestProject) {
  const given = process.env.CODETETHER_TEST_DATABASE_URL
  if (given !== undefined && given !== "") {
    project.provide("pgUrl", given)
    return
  }
  const server = await PostgresServer.start()
  project.provide("pgUrl", server.url)
  return () => server.stop()
}
