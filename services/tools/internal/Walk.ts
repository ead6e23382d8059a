/**
 * A depth-first walk over the files under a directory, used by `glob` and
 * `grep`: entries sorted by name (code unit order) at every level, directories
 * named in {@link DEFAULT_IGNORED} skipped wherever they appear below the
 * root, symbolic links to files reported as files, symbolic links to
 * directories not followed (no cycles). The visitor can stop the walk early.
 *
 * @since 0.1.0
 */
import * as NodePath from "node:path"
import * as Effect from "effect/Effect"
import * as FileSystem from "effect/FileSystem"
import type * as PlatformError from "effect/PlatformError"

/**
 * Directory names the walk never enters: version-control metadata,
 * dependency trees, and codetether's own data dir (which holds session
 * transcripts that would otherwise match every search).
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_IGNORED: ReadonlySet<string> = new Set([".git", "node_modules", ".codetether-agent"])

/**
 * {@link DEFAULT_IGNORED} minus the names a pattern spells out as path
 * segments, so `node_modules/**\/*.js` does search `node_modules`.
 *
 * @since 0.1.0
 * @category constants
 */
export const ignoredUnlessNamed = (pattern: string): ReadonlySet<string> => {
  const named = new Set(pattern.split("/"))
  return new Set([...DEFAULT_IGNORED].filter((name) => !named.has(name)))
}

/**
 * A file found by the walk: its path relative to the root (`/`-separated)
 * and its absolute path.
 *
 * @since 0.1.0
 * @category models
 */
export interface Entry {
  readonly relative: string
  readonly absolute: string
}

/**
 * Whether the visitor wants more entries.
 *
 * @since 0.1.0
 * @category models
 */
export type Continue = boolean

/**
 * Walks the files under `root` (an absolute directory path), calling `visit`
 * for each in order until it returns `false`. Unreadable subdirectories are
 * skipped; an unreadable root fails with its `PlatformError`. Returns whether
 * the walk finished (`true`) or was stopped by the visitor (`false`).
 *
 * @since 0.1.0
 * @category walking
 */
export const files = <E>(
  fs: FileSystem.FileSystem,
  root: string,
  visit: (entry: Entry) => Effect.Effect<Continue, E>,
  options?: { readonly ignored?: ReadonlySet<string> | undefined }
) => {
  const ignored = options?.ignored ?? DEFAULT_IGNORED
  const join = (parent: string, name: string) => parent === "" ? name : `${parent}/${name}`
  const absoluteOf = (relative: string) => relative === "" ? root : NodePath.join(root, relative)

  const directory = (relative: string): Effect.Effect<Continue, E | PlatformError.PlatformError> =>
    Effect.gen(function*() {
      const listing = yield* (relative === ""
        ? fs.readDirectoryEntries(root)
        : fs.readDirectoryEntries(absoluteOf(relative)).pipe(
          Effect.catch(() => Effect.succeed([] as ReadonlyArray<FileSystem.DirectoryEntry>))
        ))
      const sorted = [...listing].sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
      for (const entry of sorted) {
        const child = join(relative, entry.name)
        let type = entry.type
        if (type === "SymbolicLink" || type === "Unknown") {
          const info = yield* fs.stat(absoluteOf(child)).pipe(Effect.option)
          if (info._tag === "None") continue
          // Links to directories are not followed (no cycles); links to files are files.
          if (info.value.type === "Directory") {
            if (entry.type === "SymbolicLink") continue
            type = "Directory"
          } else {
            type = info.value.type
          }
        }
        if (type === "Directory") {
          if (ignored.has(entry.name)) continue
          const more = yield* directory(child)
          if (!more) return false
        } else if (type === "File") {
          const more = yield* visit({ relative: child, absolute: absoluteOf(child) })
          if (!more) return false
        }
      }
      return true
    })

  return directory("")
}

/**
 * Whether `bytes` look binary: a NUL byte among the first 8 KiB (the test
 * git and ripgrep use).
 *
 * @since 0.1.0
 * @category predicates
 */
export const looksBinary = (bytes: Uint8Array): boolean => {
  const end = Math.min(bytes.length, 8192)
  for (let i = 0; i < end; i++) {
    if (bytes[i] === 0) return true
  }
  return false
}
