/**
 * The workspace index sidecar on disk (4.5.7 `workspace_index_io.rs`):
 * `<sessions_dir>/.workspace_index.json`, a cache never trusted by readers.
 *
 * @internal
 */
import * as NodePath from "node:path"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as SessionJson from "../../schemas/SessionJson.ts"
import * as WorkspaceIndex from "../../schemas/WorkspaceIndex.ts"
import { writeFileAtomic } from "./AtomicWrite.ts"
import * as SafeFs from "./SafeFs.ts"

const decode = Schema.decodeUnknownResult(WorkspaceIndex.WorkspaceIndex)

/**
 * The index entries (workspace -> session id). Any problem yields no entries:
 * a missing file silently, a corrupt one with `problem` set (for a warning).
 * Read through `SafeFs`: non-blocking, a regular file of at most 16 MiB
 * (`SafeFs.SMALL_FILE_CAP`), a symlink only when it points inside the data
 * dir (the parent of `sessionsDir`). Synchronous: the file is small (one
 * entry per workspace).
 */
export const load = (
  sessionsDir: string
): { readonly entries: Readonly<Record<string, string>>; readonly problem?: string } => {
  const path = NodePath.join(sessionsDir, WorkspaceIndex.FILE_NAME)
  let bytes: Buffer | undefined
  try {
    bytes = SafeFs.readFileSync(path, {
      maxBytes: SafeFs.SMALL_FILE_CAP,
      follow: { within: NodePath.dirname(sessionsDir) }
    })
  } catch (e) {
    return { entries: {}, problem: (e as Error).message }
  }
  if (bytes === undefined) return { entries: {} }
  const parsed = SessionJson.parseJson(bytes)
  if (Result.isFailure(parsed)) return { entries: {}, problem: `${path}: ${parsed.failure.message}` }
  const decoded = decode(parsed.success)
  if (Result.isFailure(decoded)) return { entries: {}, problem: `${path}: ${decoded.failure.message}` }
  return { entries: decoded.success.entries }
}

/**
 * Sets `workspace -> id` with a read-modify-write of the whole map, written
 * atomically by {@link writeFileAtomic} (a unique temporary file, then a
 * rename that replaces whatever is at the index path, a symlink included),
 * 0600, without fsync (it is a cache). Writes nothing when the entry is
 * already there. Callers serialise calls within a process; across
 * processes the last writer wins, as in 4.5.7.
 */
export const upsert = (sessionsDir: string, workspace: string, id: string): Effect.Effect<void, Error> =>
  Effect.suspend(() => {
    const current = load(sessionsDir)
    if (current.entries[workspace] === id) return Effect.void
    const next = { entries: { ...current.entries, [workspace]: id } }
    const target = NodePath.join(sessionsDir, WorkspaceIndex.FILE_NAME)
    return writeFileAtomic(target, new TextEncoder().encode(JSON.stringify(next))).pipe(
      Effect.mapError((e) => new Error(`cannot update ${target}: ${e.message}`))
    )
  })
