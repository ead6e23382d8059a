/**
 * Durable session configuration (`session::SessionMetadata` in
 * codetether-agent 4.5.7), written before the transcript so a scanner can read
 * the workspace without lexing messages.
 *
 * Read defaults follow serde: nullable keys default to `null`,
 * `auto_apply_edits`/`allow_network` to `false`, `slash_autocomplete`/
 * `use_worktree` to **`true`** (while a new session writes `false`: see
 * {@link defaults}), `rlm` to the RLM defaults per key. `shared` has no
 * default: a metadata object without it fails to decode, as in 4.5.7.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { ExecutionProvenance } from "./Provenance.ts"
import * as RlmConfig from "./RlmConfig.ts"

const withDefault = <S extends Schema.Top>(schema: S, value: S["Encoded"]) =>
  schema.pipe(Schema.withDecodingDefaultKey(Effect.succeed(value)))

/**
 * Wire keys in order: `directory, model, knowledge_snapshot, provenance,
 * auto_apply_edits, allow_network, slash_autocomplete, use_worktree, shared,
 * share_url, rlm`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const SessionMetadata = Schema.Struct({
  directory: withDefault(Schema.NullOr(Schema.String), null),
  model: withDefault(Schema.NullOr(Schema.String), null),
  knowledgeSnapshot: withDefault(Schema.NullOr(Schema.String), null),
  provenance: withDefault(Schema.NullOr(ExecutionProvenance), null),
  autoApplyEdits: withDefault(Schema.Boolean, false),
  allowNetwork: withDefault(Schema.Boolean, false),
  slashAutocomplete: withDefault(Schema.Boolean, true),
  useWorktree: withDefault(Schema.Boolean, true),
  shared: Schema.Boolean,
  shareUrl: withDefault(Schema.NullOr(Schema.String), null),
  rlm: RlmConfig.RlmConfig.pipe(Schema.withDecodingDefaultKey(Effect.succeed({})))
}).pipe(Schema.encodeKeys({
  knowledgeSnapshot: "knowledge_snapshot",
  autoApplyEdits: "auto_apply_edits",
  allowNetwork: "allow_network",
  slashAutocomplete: "slash_autocomplete",
  useWorktree: "use_worktree",
  shareUrl: "share_url"
}))

/**
 * @since 0.1.0
 * @category models
 */
export type SessionMetadata = typeof SessionMetadata.Type

/**
 * The in-memory defaults 4.5.7 uses for a new session (`Session::new`) and for
 * Codex imports: every boolean `false` (including `slash_autocomplete` and
 * `use_worktree`, unlike the read defaults), no provenance, RLM defaults.
 *
 * @since 0.1.0
 * @category constructors
 */
export const defaults = (directory: string | null): SessionMetadata => ({
  directory,
  model: null,
  knowledgeSnapshot: null,
  provenance: null,
  autoApplyEdits: false,
  allowNetwork: false,
  slashAutocomplete: false,
  useWorktree: false,
  shared: false,
  shareUrl: null,
  rlm: RlmConfig.defaults
})
