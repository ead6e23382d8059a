/**
 * The bearer token of `codetether serve`: where it comes from, and the one
 * place it is compared.
 *
 * The token is, in order:
 * 1. `CODETETHER_SERVER_TOKEN` when set and not blank;
 * 2. `<data_dir>/server-token` when it is a file this program created: a
 *    regular file (never a symlink), owned by the current user, mode `0600`,
 *    with one link, holding a token whose tag matches the file's inode;
 * 3. otherwise a new random token, written there (atomically, `0600`).
 *
 * The inode tag is how a file "we did not create" is told apart: a token is
 * `<43 base64url characters of 32 random bytes>.<16 hex>`, the hex being the
 * first 64 bits of `sha256("codetether-server-token", random part, inode)`
 * of the file it was written to. A repository that commits
 * `.codetether-agent/server-token` (even mode 0600 after a checkout with
 * umask 077) cannot know the inode its file gets on the user's disk, so its
 * token is never used: a new one replaces the file, with a warning. A copied
 * or restored file gets a new inode too, and a new token (the old one then
 * stops working, which is the safe direction).
 *
 * Tokens are compared in constant time ({@link matches}) and never logged.
 *
 * @since 0.1.0
 */
import * as NodeCrypto from "node:crypto"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as DataDir from "./DataDir.ts"
import { writeFileAtomicWith } from "./internal/AtomicWrite.ts"
import * as SafeFs from "./internal/SafeFs.ts"

/**
 * The token could not be read or written (`Io`: the data dir or the token
 * file failed).
 *
 * @since 0.1.0
 * @category errors
 */
export class ServerTokenError extends Schema.TaggedError<ServerTokenError>()("ServerTokenError", {
  reason: Schema.Literals(["Io"]),
  message: Schema.String,
  path: Schema.optional(Schema.String),
  cause: Schema.optional(Schema.Defect())
}) {}

/**
 * Where the token came from: the environment, the data dir's file, or a new
 * one written there.
 *
 * @since 0.1.0
 * @category models
 */
export type Source = "env" | "file" | "generated"

/**
 * @since 0.1.0
 * @category services
 */
export class ServerToken extends Context.Service<ServerToken, {
  /** The token (never logged: print it only on a terminal). */
  readonly token: Redacted.Redacted<string>
  readonly source: Source
  /** `<data_dir>/server-token` for the file sources. */
  readonly path: string | undefined
  /** Whether `presented` is the token (constant time). */
  readonly matches: (presented: string) => boolean
}>()("codetether/ServerToken") {}

/**
 * The variable that sets the token.
 *
 * @since 0.1.0
 * @category constants
 */
export const ENV_VAR = "CODETETHER_SERVER_TOKEN"

/**
 * The token file's name in the data dir.
 *
 * @since 0.1.0
 * @category constants
 */
export const FILE_NAME = "server-token"

const TOKEN_PATTERN = /^([A-Za-z0-9_-]{43})\.([0-9a-f]{16})$/

const tagFor = (random: string, inode: bigint): string =>
  NodeCrypto.createHash("sha256").update(`codetether-server-token\0${random}\0${inode}`).digest("hex").slice(0, 16)

/**
 * Whether `presented` equals `expected`, in time independent of where they
 * differ (both are hashed to 32 bytes first, so their lengths leak nothing
 * either).
 *
 * @since 0.1.0
 * @category security
 */
export const matches = (expected: string, presented: string): boolean => {
  const a = NodeCrypto.createHash("sha256").update(expected).digest()
  const b = NodeCrypto.createHash("sha256").update(presented).digest()
  return NodeCrypto.timingSafeEqual(a, b) && expected.length > 0
}

/**
 * Whether `host` names the loopback interface (`localhost`, `127.0.0.0/8`,
 * `::1`), where `serve` may run with a token from the data dir.
 *
 * @since 0.1.0
 * @category security
 */
export const isLoopback = (host: string): boolean => {
  const h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, "$1")
  return h === "localhost" || h === "::1" || h === "0:0:0:0:0:0:0:1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) ||
    /^::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)
}

/**
 * Why the file at `path` is not a token this program wrote there, or
 * `undefined` when it is (then `token` is its token).
 */
const inspectFile = (path: string): { readonly token?: string; readonly problem?: string; readonly missing?: true } => {
  let lstat: NodeFs.BigIntStats | undefined
  try {
    lstat = NodeFs.lstatSync(path, { bigint: true, throwIfNoEntry: false })
  } catch (e) {
    return { problem: `cannot be read: ${(e as Error).message}` }
  }
  if (lstat === undefined) return { missing: true }
  if (lstat.isSymbolicLink()) return { problem: "is a symlink" }
  if (!lstat.isFile()) return { problem: "is not a regular file" }
  if (typeof process.getuid === "function" && lstat.uid !== BigInt(process.getuid())) {
    return { problem: "is owned by another user" }
  }
  if ((lstat.mode & 0o777n) !== 0o600n) return { problem: `has mode ${(lstat.mode & 0o777n).toString(8)}, not 600` }
  if (lstat.nlink !== 1n) return { problem: "has other hard links" }
  let bytes: Buffer | undefined
  try {
    bytes = SafeFs.readFileSync(path, { maxBytes: 4096 })
  } catch (e) {
    return { problem: e instanceof SafeFs.SafeFsError ? e.detail : String(e) }
  }
  if (bytes === undefined) return { missing: true }
  const match = TOKEN_PATTERN.exec(bytes.toString("utf8").trim())
  if (match === null) return { problem: "does not hold a token codetether wrote" }
  if (match[2] !== tagFor(match[1]!, lstat.ino)) return { problem: "was not created here by codetether serve" }
  return { token: match[0] }
}

/**
 * Writes a new token to `path` (atomically, mode 0600) and returns it. The
 * token's tag is computed from the inode of the file it is written to.
 */
const writeNew = (path: string) =>
  Effect.gen(function*() {
    let token = ""
    yield* Effect.tryPromise({
      try: () => SafeFs.ensureDir(NodePath.dirname(path)),
      catch: (e) => e
    })
    yield* writeFileAtomicWith(path, () => Effect.void, {
      mode: 0o600,
      sync: true,
      beforeRename: (handle) =>
        Effect.tryPromise({
          try: async () => {
            const stat = await handle.stat({ bigint: true })
            const random = NodeCrypto.randomBytes(32).toString("base64url")
            token = `${random}.${tagFor(random, stat.ino)}`
            await handle.write(`${token}\n`)
            await handle.sync()
          },
          catch: (e) => e
        })
    })
    return token
  }).pipe(
    Effect.mapError((e) =>
      new ServerTokenError({
        reason: "Io",
        message: `Cannot write the server token ${path}: ${
          e instanceof SafeFs.SafeFsError ? e.detail : (e as Error)?.message ?? String(e)
        }`,
        path,
        cause: e
      })
    )
  )

const service = (token: string, source: Source, path: string | undefined): ServerToken["Service"] =>
  ServerToken.of({
    token: Redacted.make(token),
    source,
    path,
    matches: (presented) => matches(token, presented)
  })

/**
 * Resolves the token as the module documentation says: `envToken` (the
 * value of `CODETETHER_SERVER_TOKEN`, blank = unset), else the data dir's
 * file when this program created it, else a new token written there. Logs a
 * warning (without the token) when an existing file is distrusted. Fails
 * with {@link ServerTokenError} when the file cannot be written.
 *
 * @since 0.1.0
 * @category constructors
 */
export const resolve = Effect.fn("ServerToken.resolve")(function*(options: {
  readonly dataDir: string
  readonly envToken?: string | undefined
}) {
  const fromEnv = options.envToken?.trim()
  if (fromEnv !== undefined && fromEnv.length > 0) return service(fromEnv, "env", undefined)
  const path = NodePath.join(options.dataDir, FILE_NAME)
  const found = inspectFile(path)
  if (found.token !== undefined) return service(found.token, "file", path)
  if (found.problem !== undefined) {
    yield* Effect.logWarning(`ignoring ${path}: it ${found.problem}; a new server token replaces it`)
  }
  return service(yield* writeNew(path), "generated", path)
})

/**
 * The token from the environment (`CODETETHER_SERVER_TOKEN`) or the data
 * dir of the environment.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<ServerToken, ServerTokenError | Config.ConfigError, DataDir.DataDir> = Layer.effect(
  ServerToken,
  Effect.gen(function*() {
    const dataDir = yield* DataDir.DataDir
    const env = yield* Config.option(Config.String(ENV_VAR))
    return yield* resolve({ dataDir: dataDir.path, envToken: Option.getOrUndefined(env) })
  })
)

/**
 * A fixed token (tests, embedders).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerValue = (token: string): Layer.Layer<ServerToken> =>
  Layer.succeed(ServerToken, service(token, "env", undefined))
