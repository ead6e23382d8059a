/**
 * Custom providers from `<data_dir>/providers.json`: OpenAI-compatible (or
 * Anthropic-compatible) endpoints such as a local llama.cpp / vLLM / Ollama
 * server or a company gateway.
 *
 * ```json
 * {
 *   "providers": [
 *     {
 *       "name": "local",
 *       "base_url": "http://127.0.0.1:8080/v1",
 *       "api_key_env": "LOCAL_LLM_KEY",
 *       "default_model": "qwen3-coder",
 *       "kind": "openai"
 *     }
 *   ]
 * }
 * ```
 *
 * `name` (required): registry name, letters, digits, `.`, `_`, `-` (no `/`,
 * which separates provider and model); `base_url` (required): an http(s) URL;
 * `api_key_env` (optional): the variable holding the API key; when given and
 * unset, the provider is not registered; when omitted, requests carry no
 * credentials; `default_model` (optional; default from 4.5.7's table, usually
 * `gpt-4o`); `kind` (optional): `"openai"` (Chat Completions, default) or
 * `"anthropic"` (Messages); `native_tools` (optional, default `true`):
 * `false` for a model served without native tool calling, which then gets
 * the tools described in its system prompt and calls them with
 * `<tool_call>` markup. Unknown keys are errors (typos fail loudly).
 *
 * The file is read without blocking (a FIFO or a device is never waited on),
 * must be a regular file of at most {@link MAX_FILE_BYTES} bytes, and a
 * symlink is followed only as the caller allows; anything else is skipped
 * with one warning. Which providers of a file are registered depends on where
 * the file lies: see `services/ProviderRegistry.ts`.
 *
 * @since 0.1.0
 */
import * as NodeCrypto from "node:crypto"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as SafeFs from "../internal/SafeFs.ts"
import { ProviderError } from "./Common.ts"

/**
 * One entry of `providers.json` (snake_case keys on disk).
 *
 * @since 0.1.0
 * @category schemas
 */
export const CustomProvider = Schema.Struct({
  name: Schema.String.check(
    Schema.isPattern(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, {
      message: "Expected a provider name of letters, digits, '.', '_' or '-' (no '/')"
    })
  ),
  baseUrl: Schema.String.check(
    Schema.isPattern(/^https?:\/\/[^\s/]+/, { message: "Expected an http(s) URL" })
  ),
  apiKeyEnv: Schema.optionalKey(
    Schema.String.check(
      Schema.isPattern(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: "Expected an environment variable name" })
    )
  ),
  defaultModel: Schema.optionalKey(Schema.NonEmptyString),
  kind: Schema.optionalKey(Schema.Literals(["openai", "anthropic"])),
  nativeTools: Schema.optionalKey(Schema.Boolean)
}).pipe(Schema.encodeKeys({
  baseUrl: "base_url",
  apiKeyEnv: "api_key_env",
  defaultModel: "default_model",
  nativeTools: "native_tools"
}))

/**
 * @since 0.1.0
 * @category models
 */
export type CustomProvider = typeof CustomProvider.Type

/**
 * The whole `providers.json` file: `{"providers": [...]}`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ProvidersFile = Schema.Struct({ providers: Schema.Array(CustomProvider) })

/**
 * The file name inside the data dir.
 *
 * @since 0.1.0
 * @category constants
 */
export const FILE_NAME = "providers.json"

const invalid = (path: string, problem: string) =>
  new ProviderError({
    reason: "Config",
    path,
    message: `Invalid providers file ${path}: ${problem.replace(/\n\s*/g, " ")}`
  })

/**
 * Decodes the text of a providers file. Fails with a `Config`
 * {@link ProviderError} naming `path` and the problem (JSON syntax error with
 * its position, the offending key path, a duplicate name).
 *
 * @since 0.1.0
 * @category decoding
 */
export const decode = (text: string, path: string): Effect.Effect<ReadonlyArray<CustomProvider>, ProviderError> =>
  Effect.gen(function*() {
    const json = yield* Effect.try({
      try: (): unknown => JSON.parse(text),
      catch: (e) => invalid(path, `not valid JSON: ${e instanceof Error ? e.message : String(e)}`)
    })
    if (typeof json !== "object" || json === null || Array.isArray(json)) {
      return yield* invalid(path, `expected an object {"providers": [...]}`)
    }
    const file = yield* Schema.decodeUnknownEffect(ProvidersFile)(json, { onExcessProperty: "error" }).pipe(
      Effect.mapError((e) => invalid(path, e.message))
    )
    const seen = new Set<string>()
    for (const entry of file.providers) {
      if (seen.has(entry.name)) return yield* invalid(path, `duplicate provider name "${entry.name}"`)
      seen.add(entry.name)
    }
    return file.providers
  })

/**
 * Largest providers file read (bytes): 16 MiB, as for the other small files
 * codetether reads on its own.
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX_FILE_BYTES = SafeFs.SMALL_FILE_CAP

/**
 * A providers file as read: its path, the SHA-256 of its bytes (lowercase
 * hex, what `codetether config trust` records) and its decoded entries.
 *
 * @since 0.1.0
 * @category models
 */
export interface Loaded {
  readonly path: string
  readonly sha256: string
  readonly providers: ReadonlyArray<CustomProvider>
}

/**
 * Lowercase hex SHA-256 of `bytes`.
 *
 * @since 0.1.0
 * @category hashing
 */
export const sha256 = (bytes: Uint8Array): string => NodeCrypto.createHash("sha256").update(bytes).digest("hex")

/**
 * Reads and decodes `path`: `undefined` when it does not exist, or when it is
 * not a regular file (a FIFO, a device, a directory), is a symlink the
 * `follow` policy refuses (default: none followed), or is larger than
 * {@link MAX_FILE_BYTES}; those are skipped with one warning naming the file.
 * Never blocks on a FIFO. Fails with a `Config` {@link ProviderError} when the
 * file cannot be read or is invalid.
 *
 * @since 0.1.0
 * @category loading
 */
export const read = (
  path: string,
  options: { readonly follow?: SafeFs.FollowPolicy | undefined } = {}
): Effect.Effect<Loaded | undefined, ProviderError> =>
  Effect.tryPromise({
    try: () =>
      SafeFs.readFile(path, { maxBytes: MAX_FILE_BYTES, ...(options.follow === undefined ? {} : { follow: options.follow }) })
        .catch((e: unknown) => {
          if (e instanceof SafeFs.SafeFsError && e.kind !== "Io" && e.kind !== "Missing") return e
          throw e
        }),
    catch: (e) => invalid(path, `cannot read the file: ${e instanceof Error ? e.message : String(e)}`)
  }).pipe(
    Effect.flatMap((bytes) => {
      if (bytes === undefined) return Effect.succeed(undefined)
      if (bytes instanceof SafeFs.SafeFsError) {
        return Effect.as(Effect.logWarning(`Skipping providers file ${bytes.message}`), undefined)
      }
      return Effect.map(
        decode(bytes.toString("utf8").replace(/^\uFEFF/, ""), path),
        (providers): Loaded => ({ path, sha256: sha256(bytes), providers })
      )
    })
  )

/**
 * Reads and decodes `path` ({@link read}); a missing or skipped file is no
 * custom providers.
 *
 * @since 0.1.0
 * @category loading
 */
export const load = (path: string): Effect.Effect<ReadonlyArray<CustomProvider>, ProviderError> =>
  Effect.map(read(path), (loaded) => loaded?.providers ?? [])
