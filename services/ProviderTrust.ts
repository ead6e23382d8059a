/**
 * The files of custom providers the user has trusted: a list of absolute
 * paths and the SHA-256 of their content, kept in the user config dir
 * (`$XDG_CONFIG_HOME/codetether-agent/trusted.json`, else
 * `~/.config/codetether-agent/trusted.json`), outside any repository.
 *
 * A providers file inside the workspace (under the git root or the current
 * directory, e.g. the default `<git root>/.codetether-agent/providers.json`)
 * was written by whoever wrote the repository: its custom providers that read
 * a key variable are ignored until the user trusts that exact content with
 * `codetether config trust [FILE]`. A file whose content changed (another
 * hash) is untrusted again. See `services/ProviderRegistry.ts` for the whole
 * rule.
 *
 * ```json
 * {"files":[{"path":"/home/me/work/repo/.codetether-agent/providers.json","sha256":"9f86d0…","trusted_at":"2026-02-03T08:13:10.004Z"}]}
 * ```
 *
 * The store is written atomically (a unique temporary file renamed over it),
 * mode 0600; it is read without blocking, as a regular file of at most
 * 16 MiB.
 *
 * codetether-agent 4.5.7 has no trust store: it registered every provider of
 * `providers.json`.
 *
 * @since 0.1.0
 */
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import type * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { writeFileAtomic } from "./internal/AtomicWrite.ts"
import { canonicalize } from "./internal/Paths.ts"
import * as SafeFs from "./internal/SafeFs.ts"
import * as Workspace from "./internal/Workspace.ts"

/**
 * The store's file name inside the user config dir.
 *
 * @since 0.1.0
 * @category constants
 */
export const FILE_NAME = "trusted.json"

/**
 * One trusted file: its absolute, symlink-free path, the lowercase hex
 * SHA-256 of the content trusted, and when (ISO 8601).
 *
 * @since 0.1.0
 * @category schemas
 */
export const TrustedFile = Schema.Struct({
  path: Schema.String,
  sha256: Schema.String,
  trustedAt: Schema.String
}).pipe(Schema.encodeKeys({ trustedAt: "trusted_at" }))

/**
 * @since 0.1.0
 * @category models
 */
export type TrustedFile = typeof TrustedFile.Type

/**
 * The whole store: `{"files": [...]}`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Store = Schema.Struct({ files: Schema.Array(TrustedFile) })

/**
 * Why the store could not be read or written: `Corrupt` (not a valid store;
 * `path` names it), `Io` (any other file-system failure).
 *
 * @since 0.1.0
 * @category errors
 */
export class ProviderTrustError extends Schema.TaggedError<ProviderTrustError>()("ProviderTrustError", {
  reason: Schema.Literals(["Corrupt", "Io"]),
  message: Schema.String,
  path: Schema.String,
  cause: Schema.optional(Schema.Defect())
}) {}

/**
 * The store's path: `<user config dir>/trusted.json`.
 *
 * @since 0.1.0
 * @category files
 */
export const storePath: Effect.Effect<string, Config.ConfigError> = Effect.map(
  Workspace.userConfigDir,
  (dir) => NodePath.join(dir, FILE_NAME)
)

const describe = (e: unknown): string => (e instanceof Error ? e.message : String(e))

/**
 * The trusted files recorded at `path` (none when it does not exist). Fails
 * with `Corrupt` when it is not a valid store, `Io` when it cannot be read
 * (including a FIFO, a device or a file over 16 MiB).
 *
 * @since 0.1.0
 * @category loading
 */
export const load = (path: string): Effect.Effect<ReadonlyArray<TrustedFile>, ProviderTrustError> =>
  Effect.gen(function*() {
    const bytes = yield* Effect.tryPromise({
      try: () => SafeFs.readFile(path, { maxBytes: SafeFs.SMALL_FILE_CAP, follow: Workspace.followAnywhere(path) }),
      catch: (e) => new ProviderTrustError({ reason: "Io", path, message: `Cannot read ${describe(e)}`, cause: e })
    })
    if (bytes === undefined) return []
    const store = yield* Effect.try({
      try: (): unknown => JSON.parse(bytes.toString("utf8")),
      catch: (e) => e
    }).pipe(
      Effect.flatMap(Schema.decodeUnknownEffect(Store)),
      Effect.mapError((e) =>
        new ProviderTrustError({
          reason: "Corrupt",
          path,
          message: `The trust store ${path} is not valid (${describe(e).replace(/\n\s*/g, " ")}); remove it and trust the files again`,
          cause: e
        })
      )
    )
    return store.files
  })

/**
 * Whether `entries` trust the file at `path` (compared by its symlink-free
 * absolute path) with exactly this content hash.
 *
 * @since 0.1.0
 * @category predicates
 */
export const isTrusted = (entries: ReadonlyArray<TrustedFile>, path: string, sha256: string): boolean => {
  const real = canonicalize(NodePath.resolve(path))
  return entries.some((entry) => entry.path === real && entry.sha256 === sha256)
}

/**
 * Records that the file at `path` is trusted with content hash `sha256`
 * (replacing an earlier record of the same path) in the store at `store`,
 * creating the user config dir (0700) when missing. The store is written
 * atomically, mode 0600. Returns the record. Fails with `Io`, or `Corrupt`
 * when the existing store is not valid (it is never silently replaced).
 *
 * @since 0.1.0
 * @category writing
 */
export const trust = (
  store: string,
  path: string,
  sha256: string,
  now: Date = new Date()
): Effect.Effect<TrustedFile, ProviderTrustError> =>
  Effect.gen(function*() {
    const existing = yield* load(store)
    const record: TrustedFile = { path: canonicalize(NodePath.resolve(path)), sha256, trustedAt: now.toISOString() }
    const files = [...existing.filter((entry) => entry.path !== record.path), record]
    const text = `${JSON.stringify(Schema.encodeSync(Store)({ files }), null, 2)}\n`
    yield* Effect.try({
      try: () => NodeFs.mkdirSync(NodePath.dirname(store), { recursive: true, mode: 0o700 }),
      catch: (e) => new ProviderTrustError({ reason: "Io", path: store, message: `Cannot create ${NodePath.dirname(store)}: ${describe(e)}`, cause: e })
    })
    yield* writeFileAtomic(store, Buffer.from(text), { mode: 0o600, sync: true }).pipe(
      Effect.mapError((e) => new ProviderTrustError({ reason: "Io", path: store, message: `Cannot write ${store}: ${e.message}`, cause: e }))
    )
    return record
  })
