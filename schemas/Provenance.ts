/**
 * Execution provenance persisted in `metadata.provenance`
 * (`provenance::ExecutionProvenance` / `AgentIdentity` in codetether-agent
 * 4.5.7): the audit identity of who ran a session.
 *
 * @since 0.1.0
 */
import { Effect, Schema } from "effect"
import { Timestamp } from "./Timestamp.ts"

const NullableString = Schema.NullOr(Schema.String).pipe(Schema.withDecodingDefaultKey(Effect.succeed(null)))

/**
 * Where a session runs: `"local_cli"`, `"worker"`, `"ralph"`, `"swarm"` or `"relay"`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const AgentOrigin = Schema.Literals(["local_cli", "worker", "ralph", "swarm", "relay"])

/**
 * @since 0.1.0
 * @category models
 */
export type AgentOrigin = typeof AgentOrigin.Type

/**
 * Wire keys in order: `tenant_id, agent_identity_id, agent_name, origin,
 * worker_id, key_id, github_installation_id, github_app_id`; `agent_name` and
 * `origin` are required.
 *
 * @since 0.1.0
 * @category schemas
 */
export const AgentIdentity = Schema.Struct({
  tenantId: NullableString,
  agentIdentityId: NullableString,
  agentName: Schema.String,
  origin: AgentOrigin,
  workerId: NullableString,
  keyId: NullableString,
  githubInstallationId: NullableString,
  githubAppId: NullableString
}).pipe(Schema.encodeKeys({
  tenantId: "tenant_id",
  agentIdentityId: "agent_identity_id",
  agentName: "agent_name",
  workerId: "worker_id",
  keyId: "key_id",
  githubInstallationId: "github_installation_id",
  githubAppId: "github_app_id"
}))

/**
 * @since 0.1.0
 * @category models
 */
export type AgentIdentity = typeof AgentIdentity.Type

/**
 * Wire keys in order: `provenance_id` (`"ctprov_"` + 32 lowercase hex),
 * `session_id, task_id, run_id, attempt_id` (nullable), `issued_at`
 * (timestamp), `identity`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ExecutionProvenance = Schema.Struct({
  provenanceId: Schema.String,
  sessionId: NullableString,
  taskId: NullableString,
  runId: NullableString,
  attemptId: NullableString,
  issuedAt: Timestamp,
  identity: AgentIdentity
}).pipe(Schema.encodeKeys({
  provenanceId: "provenance_id",
  sessionId: "session_id",
  taskId: "task_id",
  runId: "run_id",
  attemptId: "attempt_id",
  issuedAt: "issued_at"
}))

/**
 * @since 0.1.0
 * @category models
 */
export type ExecutionProvenance = typeof ExecutionProvenance.Type
