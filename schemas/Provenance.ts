/**
 * Execution provenance persisted in `metadata.provenance`
 * (`provenance::ExecutionProvenance` / `AgentIdentity` in codetether-agent
 * 4.5.7): the audit identity of who ran a session.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
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

/**
 * The `CODETETHER_*` environment values a new provenance is seeded from (4.5.7
 * reads each as "set → value, even if empty"). Read them through `Config` and
 * pass them in; this module does no I/O.
 *
 * @since 0.1.0
 * @category models
 */
export interface ProvenanceEnv {
  /** `CODETETHER_TASK_ID` */
  readonly taskId?: string | undefined
  /** `CODETETHER_RUN_ID` */
  readonly runId?: string | undefined
  /** `CODETETHER_ATTEMPT_ID` */
  readonly attemptId?: string | undefined
  /** `CODETETHER_TENANT_ID` */
  readonly tenantId?: string | undefined
  /** `CODETETHER_AGENT_IDENTITY_ID` */
  readonly agentIdentityId?: string | undefined
  /** `CODETETHER_WORKER_ID`; when set, the origin is `"worker"` */
  readonly workerId?: string | undefined
  /** `CODETETHER_KEY_ID` */
  readonly keyId?: string | undefined
  /** `CODETETHER_GITHUB_INSTALLATION_ID` */
  readonly githubInstallationId?: string | undefined
  /** `CODETETHER_GITHUB_APP_ID` */
  readonly githubAppId?: string | undefined
}

/**
 * A new execution provenance as 4.5.7's `Session::new` builds it:
 * `provenance_id` = `"ctprov_"` + the UUID v4 `uuid` without dashes, the given
 * session id, task/run/attempt ids and identity fields from `env`, origin
 * `"worker"` when a worker id is set (else `"local_cli"`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: {
  readonly sessionId: string
  readonly agentName: string
  readonly issuedAt: Timestamp
  readonly uuid: string
  readonly env?: ProvenanceEnv | undefined
}): ExecutionProvenance => {
  const env = options.env ?? {}
  return {
    provenanceId: `ctprov_${options.uuid.replaceAll("-", "").toLowerCase()}`,
    sessionId: options.sessionId,
    taskId: env.taskId ?? null,
    runId: env.runId ?? null,
    attemptId: env.attemptId ?? null,
    issuedAt: options.issuedAt,
    identity: {
      tenantId: env.tenantId ?? null,
      agentIdentityId: env.agentIdentityId ?? null,
      agentName: options.agentName,
      origin: env.workerId !== undefined ? "worker" : "local_cli",
      workerId: env.workerId ?? null,
      keyId: env.keyId ?? null,
      githubInstallationId: env.githubInstallationId ?? null,
      githubAppId: env.githubAppId ?? null
    }
  }
}

/**
 * The claim a worker holds on a task (4.5.7 `provenance::ClaimProvenance`,
 * in memory only, never serialised): the worker and task ids, plus optional
 * run, attempt, tenant and agent-identity ids. An optional id that is absent
 * (`undefined` or `null`) keeps the value already in the provenance when the
 * claim is applied ({@link applyClaim}).
 *
 * @since 0.1.0
 * @category models
 */
export interface ClaimProvenance {
  readonly workerId: string
  readonly taskId: string
  readonly runId?: string | null | undefined
  readonly attemptId?: string | null | undefined
  readonly tenantId?: string | null | undefined
  readonly agentIdentityId?: string | null | undefined
}

/**
 * The provenance with a new agent name in its identity (used by 4.5.7
 * `Session::set_agent_name`). Returns `provenance` itself when the name is
 * unchanged.
 *
 * @since 0.1.0
 * @category combinators
 */
export const withAgentName = (provenance: ExecutionProvenance, agentName: string): ExecutionProvenance =>
  provenance.identity.agentName === agentName
    ? provenance
    : { ...provenance, identity: { ...provenance.identity, agentName } }

/**
 * Tags the provenance as dispatched by A2A worker `workerId` for task `taskId`
 * (4.5.7 `apply_worker_task`): `identity.origin = "worker"`,
 * `identity.worker_id = workerId`, `task_id = taskId`. Every other field is
 * kept.
 *
 * @since 0.1.0
 * @category combinators
 */
export const applyWorkerTask = (
  provenance: ExecutionProvenance,
  workerId: string,
  taskId: string
): ExecutionProvenance => ({
  ...provenance,
  taskId,
  identity: { ...provenance.identity, origin: "worker", workerId }
})

const present = (value: string | null | undefined): value is string => value !== undefined && value !== null

/**
 * Merges a task claim into the provenance as 4.5.7 `attach_claim_provenance`
 * does: first {@link applyWorkerTask} with the claim's worker and task, then
 * for each of `run_id`, `attempt_id`, `identity.tenant_id` and
 * `identity.agent_identity_id` the claim's value when present, otherwise the
 * existing value (an absent claim field never erases what is there).
 *
 * @since 0.1.0
 * @category combinators
 */
export const applyClaim = (provenance: ExecutionProvenance, claim: ClaimProvenance): ExecutionProvenance => {
  const base = applyWorkerTask(provenance, claim.workerId, claim.taskId)
  return {
    ...base,
    runId: present(claim.runId) ? claim.runId : base.runId,
    attemptId: present(claim.attemptId) ? claim.attemptId : base.attemptId,
    identity: {
      ...base.identity,
      tenantId: present(claim.tenantId) ? claim.tenantId : base.identity.tenantId,
      agentIdentityId: present(claim.agentIdentityId) ? claim.agentIdentityId : base.identity.agentIdentityId
    }
  }
}
