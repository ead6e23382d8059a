/**
 * The workspace index sidecar `<sessions_dir>/.workspace_index.json`
 * (codetether-agent 4.5.7 `workspace_index.rs`): a cache mapping a
 * canonicalised workspace path to the id of the session saved last for it.
 *
 * Wire: `{"entries":{"<workspace path>":"<session id>",…}}`, compact, key
 * order arbitrary. Never authoritative: readers validate entries.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * File name of the index inside the sessions directory.
 *
 * @since 0.1.0
 * @category constants
 */
export const FILE_NAME = ".workspace_index.json"

/**
 * @since 0.1.0
 * @category schemas
 */
export const WorkspaceIndex = Schema.Struct({
  entries: Schema.Record(Schema.String, Schema.String)
})

/**
 * @since 0.1.0
 * @category models
 */
export type WorkspaceIndex = typeof WorkspaceIndex.Type
