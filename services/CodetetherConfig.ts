/**
 * The effective codetether configuration: config files, environment and CLI
 * flags merged per key, each value reported with where it came from.
 *
 * Precedence, lowest first: built-in default < user file < project files (in
 * the order below) < environment < CLI flag.
 *
 * Files (TOML, parsed with `smol-toml`; the layout of codetether-agent
 * 4.5.7's `Config` where it applies). Missing files are skipped:
 * 1. user: `$XDG_CONFIG_HOME/codetether-agent/config.toml` when
 *    `XDG_CONFIG_HOME` is absolute, else `$HOME/.config/codetether-agent/config.toml`
 *    (4.5.7's global config path on Linux);
 * 2. project: `<cwd>/codetether.toml`, then `<cwd>/.codetether/config.toml`
 *    (4.5.7's project files, relative to the current directory).
 *
 * Keys read (all optional; unknown keys and sections are ignored, so a 4.5.7
 * config file loads as is):
 *
 * ```toml
 * default_model = "anthropic/claude-sonnet-4-20250514"   # env CODETETHER_MODEL or CODETETHER_DEFAULT_MODEL, flag --model
 * fallback_models = ["openrouter/z-ai/glm-5", "ollama/qwen2.5-coder"]   # env CODETETHER_FALLBACK_MODELS (comma-separated)
 *
 * [session]
 * max_steps = 250                # env CODETETHER_MAX_STEPS, flag --max-steps (codetether)
 * max_completion_tokens = 8192   # env CODETETHER_SESSION_MAX_TOKENS, flag --max-tokens (codetether)
 *
 * [rlm]                          # copied into each session's metadata.rlm (4.5.7 RlmConfig)
 * mode = "auto"                  # "auto" | "off" | "always" (not validated, as in 4.5.7)
 * threshold = 0.35               # fraction of the context window
 * max_iterations = 15
 * max_subcalls = 50
 * runtime = "rust"               # "rust" | "bun" | "python" (not validated)
 * root_model = "openai/gpt-4o"   # unset = null
 * subcall_model = "openai/gpt-4o-mini"
 *
 * # Keys that move data or secrets: honoured only from the user file (below).
 * database_url = "postgres://app:pw@db/codetether"   # env CODETETHER_DATABASE_URL, flag --database-url
 *
 * [tools.bash]
 * pass_env = ["GITHUB_TOKEN"]    # variables the bash tool passes on although they look like secrets
 *
 * [redaction]
 * enabled = true                 # default true
 *
 * [pricing."gpt-4o"]             # USD per million tokens, over the built-in table (Pricing.builtIn)
 * input = 2.5                    # uncached prompt tokens (required)
 * output = 10                    # completion tokens (required)
 * cache_read = 1.25              # prompt tokens read from the cache (default: input)
 * cache_write = 2.5              # prompt tokens written to the cache (default: input)
 *
 * [providers.openai]             # 4.5.7 provider tables: not read (api_key never is)
 * ```
 *
 * Project files are written by whoever wrote the repository, so the keys of
 * {@link SENSITIVE_KEYS} (`database_url`, `[providers.*]`,
 * `tools.bash.pass_env`, `[redaction]`) are ignored there, with one warning
 * each, and honoured only from the user file, the environment or a flag.
 *
 * Files are read without blocking, as regular files of at most 16 MiB
 * (`SafeFs.SMALL_FILE_CAP`): a FIFO, a device, a file over the cap, or a
 * symlink that leaves the current directory (project files; the user file
 * may link anywhere) is skipped with one warning, never waited on.
 *
 * A file that is not valid TOML, or a known key with a value of the wrong
 * type, is a {@link CodetetherConfigError} naming the file, the key and
 * (when known) the line. An environment variable that is not a positive
 * integer where one is expected is ignored with a warning, as 4.5.7 does for
 * `CODETETHER_SESSION_MAX_TOKENS`; empty variables count as unset.
 *
 * API keys come only from the environment, as the provider registry reads
 * them (`OPENAI_API_KEY`, `ANTHROPIC_API_KEY` and each OpenAI-compatible
 * preset's variables): a `[providers.<name>] api_key` in a 4.5.7 file is
 * ignored. They are reported here as set/unset (values `Redacted`), for
 * `codetether config`.
 *
 * Also read here: the `CODETETHER_*` provenance variables new sessions are
 * seeded from (`Provenance.ProvenanceEnv`). Everything comes through Effect
 * `Config`; nothing reads `process.env` directly.
 *
 * @since 0.1.0
 */
import * as NodeCrypto from "node:crypto"
import * as NodePath from "node:path"
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Toml from "smol-toml"
import * as Pricing from "../schemas/Pricing.ts"
import type * as Provenance from "../schemas/Provenance.ts"
import * as RlmConfig from "../schemas/RlmConfig.ts"
import * as Session from "../schemas/Session.ts"
import * as Timestamp from "../schemas/Timestamp.ts"
import * as SafeFs from "./internal/SafeFs.ts"
import * as Workspace from "./internal/Workspace.ts"
import { firstSecret } from "./providers/Common.ts"
import { presets } from "./providers/Presets.ts"

/**
 * Default `max_tokens` of a completion request when nothing sets it (4.5.7
 * `CODETETHER_SESSION_MAX_TOKENS` fallback).
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_MAX_TOKENS = 8192

/**
 * Where a value came from: the built-in default, a config file (its path), an
 * environment variable (its name), a CLI flag (its name, e.g. `--model`) or
 * a value given in code by an embedding app ({@link layerValue}).
 *
 * @since 0.1.0
 * @category models
 */
export type Source =
  | { readonly kind: "default" }
  | { readonly kind: "file"; readonly path: string }
  | { readonly kind: "env"; readonly name: string }
  | { readonly kind: "flag"; readonly name: string }
  | { readonly kind: "value" }

/**
 * One effective value and its {@link Source}.
 *
 * @since 0.1.0
 * @category models
 */
export interface Setting<A> {
  readonly value: A
  readonly source: Source
}

/**
 * A provider API key: the value is redacted (`Redacted`), `none` when unset;
 * the source is the variable that set it (the first set one of `envVars`).
 *
 * @since 0.1.0
 * @category models
 */
export interface ApiKeySetting extends Setting<Option.Option<Redacted.Redacted<string>>> {
  /** Provider name, e.g. `openai`. */
  readonly provider: string
  /** The environment variables read for it, in order of precedence. */
  readonly envVars: ReadonlyArray<string>
}

/**
 * Every effective setting with its source.
 *
 * @since 0.1.0
 * @category models
 */
export interface Settings {
  /** `default_model`: the model selector (`"provider/model"` or `"model"`); `null` = the provider's default. */
  readonly model: Setting<string | null>
  /**
   * `fallback_models`: selectors tried in order when the model's provider
   * fails after its retries (codetether; env `CODETETHER_FALLBACK_MODELS`,
   * comma-separated). Default none.
   */
  readonly fallbackModels: Setting<ReadonlyArray<string>>
  /** `session.max_steps`: loop step limit (default 250, 4.5.7 `DEFAULT_MAX_STEPS`). */
  readonly maxSteps: Setting<number>
  /** `session.max_completion_tokens`: `max_tokens` of each completion request (default 8192). */
  readonly maxTokens: Setting<number>
  /** `[rlm]`, key by key. */
  readonly rlm: { readonly [K in keyof RlmConfig.RlmConfig]: Setting<RlmConfig.RlmConfig[K]> }
  /** Provider API keys (environment only), in {@link API_KEY_ENV_VARS} order. */
  readonly apiKeys: ReadonlyArray<ApiKeySetting>
  /** `database_url` (user file, env `CODETETHER_DATABASE_URL`, flag `--database-url`); `null` = unset. */
  readonly databaseUrl: Setting<Redacted.Redacted<string> | null>
  /** `tools.bash.pass_env` (user file only): variables the bash tool passes on although they look like secrets. */
  readonly bashPassEnv: Setting<ReadonlyArray<string>>
  /** `redaction.enabled` (user file only; default `true`). */
  readonly redaction: Setting<boolean>
  /**
   * `[pricing."<model>"]` tables (any config file; a later file replaces a
   * model's price whole): the prices set in files, without the built-in
   * ones; the source is the last file that set one.
   */
  readonly pricing?: Setting<Pricing.PriceTable> | undefined
}

/**
 * A config file location that was considered, and whether it exists.
 *
 * @since 0.1.0
 * @category models
 */
export interface ConfigFile {
  readonly path: string
  readonly scope: "user" | "project"
  readonly found: boolean
  /** Why a file that exists was not read (a FIFO, a device, too large, a symlink out of place). */
  readonly skipped?: string | undefined
}

/**
 * CLI flag overrides (the highest precedence). `undefined` = flag not given.
 *
 * @since 0.1.0
 * @category models
 */
export interface Flags {
  /** `--model` */
  readonly model?: string | undefined
  /** `--max-steps` (positive integer) */
  readonly maxSteps?: number | undefined
  /** `--max-tokens` (positive integer) */
  readonly maxTokens?: number | undefined
  /** `--database-url` */
  readonly databaseUrl?: string | undefined
}

/**
 * Anything that resolves a model selector to a provider, typed structurally
 * so this module does not depend on the provider registry: the
 * `ProviderRegistry` service's `resolveModel` (4.5.7
 * `ProviderRegistry::resolve_model`) fits.
 *
 * @since 0.1.0
 * @category models
 */
export interface ModelResolver<P, E = unknown, R = never> {
  readonly resolveModel: (model: string) => Effect.Effect<{ readonly provider: P; readonly model: string }, E, R>
}

/**
 * A resolved RLM sub-call provider and model name (4.5.7 `subcall_provider` /
 * `subcall_model_name`): runtime-only, never part of the persisted session.
 *
 * @since 0.1.0
 * @category models
 */
export interface SubcallProvider<P> {
  readonly provider: P
  readonly model: string
}

/**
 * Result of {@link applyConfig}: the session with the configured RLM
 * settings, and the sub-call provider held beside it.
 *
 * @since 0.1.0
 * @category models
 */
export interface Applied<P> {
  readonly session: Session.Session
  readonly subcallProvider: Option.Option<SubcallProvider<P>>
}

/**
 * Why the configuration could not be loaded:
 * - `Parse`: a config file is not valid TOML (`path`, `line`, `column`, and
 *   `key` when the line assigns one);
 * - `InvalidValue`: a known key (in a file: `path`, `key`, `line` when found;
 *   or a flag: `key` = the flag name) has a value of the wrong type or range;
 * - `Io`: a config file exists but cannot be read;
 * - `Env`: the configuration provider failed.
 *
 * @since 0.1.0
 * @category errors
 */
export class CodetetherConfigError extends Schema.TaggedError<CodetetherConfigError>()("CodetetherConfigError", {
  reason: Schema.Literals(["Parse", "InvalidValue", "Io", "Env"]),
  message: Schema.String,
  path: Schema.optional(Schema.String),
  key: Schema.optional(Schema.String),
  line: Schema.optional(Schema.Number),
  column: Schema.optional(Schema.Number),
  cause: Schema.optional(Schema.Defect())
}) {}

/**
 * @since 0.1.0
 * @category services
 */
export class CodetetherConfig extends Context.Service<CodetetherConfig, {
  /** Effective `default_model` (`null` = each provider's default model). */
  readonly model: string | null
  /** Effective `fallback_models` (selectors, in order; empty = no fail-over). */
  readonly fallbackModels: ReadonlyArray<string>
  /** Effective loop step limit. */
  readonly maxSteps: number
  /** Effective `max_tokens` per completion request. */
  readonly maxTokens: number
  /** Effective RLM settings, copied into sessions by `apply`. */
  readonly rlm: RlmConfig.RlmConfig
  /** Effective `database_url` (`null` = unset). */
  readonly databaseUrl: Redacted.Redacted<string> | null
  /** Effective `tools.bash.pass_env`. */
  readonly bashPassEnv: ReadonlyArray<string>
  /** Effective `redaction.enabled`. */
  readonly redaction: boolean
  /** Model prices (USD per million tokens): the built-in table with the config files' `[pricing]` over it. */
  readonly pricing: Pricing.PriceTable
  /** The `CODETETHER_*` provenance variables (set → value, as the config provider reports it). */
  readonly provenanceEnv: Provenance.ProvenanceEnv
  /** Every setting with its source (for `codetether config`). */
  readonly settings: Settings
  /** The config file locations considered, lowest precedence first. */
  readonly files: ReadonlyArray<ConfigFile>
  /**
   * Whether values may come from the environment: `false` for a
   * configuration given as values ({@link layerValue}), whose users (the
   * redactor's provider-key lookup among them) then read no variable.
   */
  readonly readsEnvironment: boolean
  /**
   * A new session for `directory` (4.5.7 `Session::new` then
   * `apply_config(config, None)`): fresh UUID v4 id and provenance id,
   * `Timestamp.now`, provenance seeded from {@link provenanceEnv}, RLM
   * settings from this configuration. Nothing is saved.
   */
  readonly newSession: (directory: string) => Effect.Effect<Session.Session>
  /**
   * {@link applyConfig} with this configuration's RLM settings.
   */
  readonly apply: <P = never, E = never, R = never>(
    session: Session.Session,
    registry?: ModelResolver<P, E, R>
  ) => Effect.Effect<Applied<P>, never, R>
}>()("codetether/CodetetherConfig") {}

// ---------------------------------------------------------------------------
// Sub-call provider resolution (pure over the session, needs a resolver)
// ---------------------------------------------------------------------------

const describeError = (error: unknown): string => {
  if (typeof error === "object" && error !== null && "message" in error && typeof error.message === "string") {
    return error.message
  }
  return String(error)
}

/**
 * Resolves the session's `metadata.rlm.subcall_model` with `registry` (4.5.7
 * `resolve_subcall_provider`). `none` when no sub-call model is set. When the
 * registry cannot resolve it, logs a warning naming the model and the reason
 * and returns `none`: it never fails.
 *
 * @since 0.1.0
 * @category sessions
 */
export const resolveSubcallProvider = <P, E, R>(
  session: Session.Session,
  registry: ModelResolver<P, E, R>
): Effect.Effect<Option.Option<SubcallProvider<P>>, never, R> => {
  const model = session.metadata.rlm.subcallModel
  if (model === null) return Effect.succeedNone
  return registry.resolveModel(model).pipe(
    Effect.map(({ model, provider }) => Option.some({ provider, model })),
    Effect.catch((error) =>
      Effect.as(
        Effect.logWarning(
          `RLM sub-call model "${model}" could not be resolved: ${
            describeError(error)
          }; RLM sub-calls will run without a dedicated provider`
        ),
        Option.none()
      )
    ),
    Effect.withSpan("CodetetherConfig.resolveSubcallProvider", { attributes: { model } })
  )
}

/**
 * 4.5.7 `apply_config(config, registry?)`: copies `rlm` into
 * `metadata.rlm` ({@link Session.applyConfig}: idempotent, no `updatedAt`
 * bump), then, when a registry is given and `rlm.subcall_model` is set,
 * resolves it ({@link resolveSubcallProvider}: logs, never fails). The
 * resolved provider is returned beside the session, never stored in it.
 *
 * @since 0.1.0
 * @category sessions
 */
export const applyConfig = <P = never, E = never, R = never>(
  session: Session.Session,
  rlm: RlmConfig.RlmConfig,
  registry?: ModelResolver<P, E, R>
): Effect.Effect<Applied<P>, never, R> => {
  const applied = Session.applyConfig(session, rlm)
  if (registry === undefined) return Effect.succeed({ session: applied, subcallProvider: Option.none() })
  return Effect.map(resolveSubcallProvider(applied, registry), (subcallProvider) => ({
    session: applied,
    subcallProvider
  }))
}

// ---------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------

type Table = { readonly [key: string]: unknown }

/** The typed values one config file sets. */
interface FileValues {
  readonly path: string
  readonly model?: string
  readonly fallbackModels?: ReadonlyArray<string>
  readonly maxSteps?: number
  readonly maxTokens?: number
  readonly rlm: Partial<Record<keyof RlmConfig.RlmConfig, unknown>>
  readonly databaseUrl?: string
  readonly passEnv?: ReadonlyArray<string>
  readonly redaction?: boolean
  readonly pricing?: Pricing.PriceTable
}

const isTable = (value: unknown): value is Table =>
  typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Toml.TomlDate)

const describeValue = (value: unknown): string => {
  if (value instanceof Toml.TomlDate) return `date-time ${value.toISOString()}`
  if (Array.isArray(value)) return "an array"
  if (isTable(value)) return "a table"
  if (typeof value === "string") return `string ${JSON.stringify(value)}`
  if (typeof value === "number") return Number.isInteger(value) ? `integer ${value}` : `float ${value}`
  return `${typeof value} ${String(value)}`
}

const TABLE_HEADER = /^\s*\[\s*([^\]\s][^\]]*?)\s*\]\s*(?:#.*)?$/
const ASSIGNMENT = /^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*=/

const normaliseKey = (key: string): string =>
  key.split(".").map((part) => part.trim().replace(/^["']|["']$/g, "")).join(".")

/**
 * The dotted key (with its table prefix) assigned on 1-based line `line` of
 * `text`, or `undefined`. Best effort: tracks `[table]` headers only.
 */
const keyAtLine = (text: string, line: number): string | undefined => {
  const lines = text.split(/\r?\n/)
  let table = ""
  for (let i = 0; i < Math.min(line, lines.length); i++) {
    const header = TABLE_HEADER.exec(lines[i]!)
    if (header !== null) table = normaliseKey(header[1]!.replace(/^\[|\]$/g, ""))
    if (i === line - 1) {
      const assignment = ASSIGNMENT.exec(lines[i]!)
      if (assignment === null) return header !== null ? table : undefined
      const key = normaliseKey(assignment[1]!)
      return table === "" ? key : `${table}.${key}`
    }
  }
  return undefined
}

/** The 1-based line assigning dotted key `key`, or `undefined`. Best effort. */
const lineOfKey = (text: string, key: string): number | undefined => {
  const lines = text.split(/\r?\n/)
  let table = ""
  for (let i = 0; i < lines.length; i++) {
    const header = TABLE_HEADER.exec(lines[i]!)
    if (header !== null) {
      table = normaliseKey(header[1]!.replace(/^\[|\]$/g, ""))
      if (table === key) return i + 1
      continue
    }
    const assignment = ASSIGNMENT.exec(lines[i]!)
    if (assignment === null) continue
    const assigned = normaliseKey(assignment[1]!)
    if ((table === "" ? assigned : `${table}.${assigned}`) === key) return i + 1
  }
  return undefined
}

const parseError = (path: string, text: string, cause: unknown): CodetetherConfigError => {
  if (cause instanceof Toml.TomlError) {
    const reason = cause.message.split("\n")[0]!.replace(/^Invalid TOML document:\s*/, "")
    const key = keyAtLine(text, cause.line)
    return new CodetetherConfigError({
      reason: "Parse",
      path,
      line: cause.line,
      column: cause.column,
      ...(key === undefined ? {} : { key }),
      message: `Invalid config file ${path}: line ${cause.line}, column ${cause.column}${
        key === undefined ? "" : ` (key "${key}")`
      }: ${reason}`,
      cause
    })
  }
  return new CodetetherConfigError({
    reason: "Parse",
    path,
    message: `Invalid config file ${path}: ${describeError(cause)}`,
    cause
  })
}

type Check = (value: unknown) => string | undefined

const isString: Check = (v) => (typeof v === "string" ? undefined : "must be a string")
const isNumber: Check = (v) => (typeof v === "number" && Number.isFinite(v) ? undefined : "must be a number")
const isCount: Check = (v) =>
  typeof v === "number" && Number.isSafeInteger(v) && v >= 0 ? undefined : "must be an integer >= 0"
const isPositive: Check = (v) =>
  typeof v === "number" && Number.isSafeInteger(v) && v > 0 ? undefined : "must be a positive integer"

const rlmChecks: { readonly [K in keyof RlmConfig.RlmConfig]: readonly [tomlKey: string, check: Check] } = {
  mode: ["mode", isString],
  threshold: ["threshold", isNumber],
  maxIterations: ["max_iterations", isCount],
  maxSubcalls: ["max_subcalls", isCount],
  runtime: ["runtime", isString],
  rootModel: ["root_model", isString],
  subcallModel: ["subcall_model", isString]
}

const rlmFields = Object.keys(rlmChecks) as ReadonlyArray<keyof RlmConfig.RlmConfig>

const isBoolean: Check = (v) => (typeof v === "boolean" ? undefined : "must be true or false")
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/
const isSelectorList: Check = (v) =>
  Array.isArray(v) && v.every((m) => typeof m === "string" && m.trim().length > 0)
    ? undefined
    : "must be an array of model selectors (\"provider/model\" strings)"
const isNameList: Check = (v) =>
  Array.isArray(v) && v.every((name) => typeof name === "string" && ENV_NAME.test(name))
    ? undefined
    : "must be an array of environment variable names"

/**
 * The config keys that move data or secrets, as dotted paths (`*` stands for
 * any one key): read only from the user config file, the environment or a
 * flag; in a project file (written by the repository) each is ignored with
 * one warning. A later key of that kind is one more line here.
 *
 * @since 0.1.0
 * @category constants
 */
export const SENSITIVE_KEYS: ReadonlyArray<string> = [
  "database_url",
  "providers.*",
  "tools.bash.pass_env",
  "redaction"
]

/**
 * Removes the keys of {@link SENSITIVE_KEYS} from a parsed file (in place)
 * and returns the dotted keys removed, in file order of the patterns.
 */
const removeSensitive = (root: Record<string, unknown>): Array<string> => {
  const removed: Array<string> = []
  const visit = (table: Record<string, unknown>, segments: ReadonlyArray<string>, prefix: string) => {
    const [head, ...rest] = segments
    if (head === undefined) return
    const keys = head === "*" ? Object.keys(table) : Object.hasOwn(table, head) ? [head] : []
    for (const key of keys) {
      const path = prefix === "" ? key : `${prefix}.${key}`
      if (rest.length === 0) {
        delete table[key]
        removed.push(path)
      } else {
        const child = table[key]
        if (isTable(child)) visit(child as Record<string, unknown>, rest, path)
      }
    }
  }
  for (const pattern of SENSITIVE_KEYS) visit(root, pattern.split("."), "")
  return removed
}

/** Type-checks the known keys of one parsed file; unknown keys are ignored. */
const readValues = (path: string, text: string, root: Table): FileValues | CodetetherConfigError => {
  const invalid = (key: string, problem: string, value: unknown) => {
    const line = lineOfKey(text, key)
    return new CodetetherConfigError({
      reason: "InvalidValue",
      path,
      key,
      ...(line === undefined ? {} : { line }),
      message: `Invalid config file ${path}${line === undefined ? "" : `, line ${line}`}: "${key}" ${problem}, got ${
        describeValue(value)
      }`
    })
  }
  const section = (name: string): Table | CodetetherConfigError | undefined => {
    const value = root[name]
    if (value === undefined) return undefined
    return isTable(value) ? value : invalid(name, "must be a table", value)
  }
  const field = (table: Table, prefix: string, key: string, check: Check): unknown => {
    const value = table[key]
    if (value === undefined) return undefined
    const problem = check(value)
    return problem === undefined ? value : invalid(prefix === "" ? key : `${prefix}.${key}`, problem, value)
  }

  const values: {
    path: string
    model?: string
    fallbackModels?: ReadonlyArray<string>
    maxSteps?: number
    maxTokens?: number
    rlm: Partial<Record<keyof RlmConfig.RlmConfig, unknown>>
    databaseUrl?: string
    passEnv?: ReadonlyArray<string>
    redaction?: boolean
    pricing?: Pricing.PriceTable
  } = { path, rlm: {} }

  const model = field(root, "", "default_model", isString)
  if (model instanceof CodetetherConfigError) return model
  if (model !== undefined) values.model = model as string

  const fallbackModels = field(root, "", "fallback_models", isSelectorList)
  if (fallbackModels instanceof CodetetherConfigError) return fallbackModels
  if (fallbackModels !== undefined) values.fallbackModels = (fallbackModels as ReadonlyArray<string>).map((m) => m.trim())

  const session = section("session")
  if (session instanceof CodetetherConfigError) return session
  if (session !== undefined) {
    const maxSteps = field(session, "session", "max_steps", isPositive)
    if (maxSteps instanceof CodetetherConfigError) return maxSteps
    if (maxSteps !== undefined) values.maxSteps = maxSteps as number
    const maxTokens = field(session, "session", "max_completion_tokens", isPositive)
    if (maxTokens instanceof CodetetherConfigError) return maxTokens
    if (maxTokens !== undefined) values.maxTokens = maxTokens as number
  }

  const rlm = section("rlm")
  if (rlm instanceof CodetetherConfigError) return rlm
  if (rlm !== undefined) {
    for (const name of rlmFields) {
      const [tomlKey, check] = rlmChecks[name]
      const value = field(rlm, "rlm", tomlKey, check)
      if (value instanceof CodetetherConfigError) return value
      if (value !== undefined) values.rlm[name] = value
    }
  }

  const databaseUrl = field(root, "", "database_url", isString)
  if (databaseUrl instanceof CodetetherConfigError) return databaseUrl
  if (databaseUrl !== undefined) values.databaseUrl = databaseUrl as string

  const tools = section("tools")
  if (tools instanceof CodetetherConfigError) return tools
  const bash = tools?.bash
  if (bash !== undefined && !isTable(bash)) return invalid("tools.bash", "must be a table", bash)
  if (bash !== undefined) {
    const passEnv = field(bash, "tools.bash", "pass_env", isNameList)
    if (passEnv instanceof CodetetherConfigError) return passEnv
    if (passEnv !== undefined) values.passEnv = passEnv as ReadonlyArray<string>
  }

  const redaction = section("redaction")
  if (redaction instanceof CodetetherConfigError) return redaction
  if (redaction !== undefined) {
    const enabled = field(redaction, "redaction", "enabled", isBoolean)
    if (enabled instanceof CodetetherConfigError) return enabled
    if (enabled !== undefined) values.redaction = enabled as boolean
  }

  const pricing = section("pricing")
  if (pricing instanceof CodetetherConfigError) return pricing
  if (pricing !== undefined) {
    const table: Record<string, Pricing.ModelPrice> = {}
    for (const [model, entry] of Object.entries(pricing)) {
      const prefix = `pricing.${JSON.stringify(model)}`
      if (!isTable(entry)) return invalid(prefix, "must be a table", entry)
      const price: { input?: number; output?: number; cacheRead?: number; cacheWrite?: number } = {}
      for (const [tomlKey, name, required] of PRICE_KEYS) {
        const value = field(entry, prefix, tomlKey, isPrice)
        if (value instanceof CodetetherConfigError) return value
        if (value === undefined && required) {
          const line = lineOfKey(text, prefix.replaceAll("\"", ""))
          return new CodetetherConfigError({
            reason: "InvalidValue",
            path,
            key: `${prefix}.${tomlKey}`,
            ...(line === undefined ? {} : { line }),
            message: `Invalid config file ${path}${line === undefined ? "" : `, line ${line}`}: ${prefix} needs "${tomlKey}" (USD per million tokens)`
          })
        }
        if (value !== undefined) price[name] = value as number
      }
      table[model] = price as Pricing.ModelPrice
    }
    values.pricing = table
  }
  return values
}

const isPrice: Check = (v) =>
  typeof v === "number" && Number.isFinite(v) && v >= 0 ? undefined : "must be a number >= 0 (USD per million tokens)"

const PRICE_KEYS = [
  ["input", "input", true],
  ["output", "output", true],
  ["cache_read", "cacheRead", false],
  ["cache_write", "cacheWrite", false]
] as const

const readConfigFile = Effect.fnUntraced(function*(
  path: string,
  scope: ConfigFile["scope"],
  options: { readonly follow: SafeFs.FollowPolicy; readonly userPath: string | null }
): Effect.fn.Return<{ readonly file: ConfigFile; readonly values: FileValues | undefined }, CodetetherConfigError> {
  const read = yield* Effect.tryPromise({
    try: () =>
      SafeFs.readFile(path, { maxBytes: MAX_FILE_BYTES, follow: options.follow }).catch((e: unknown) => {
        // A FIFO, a device, a symlink out of place or an oversized file is skipped, never waited on.
        if (e instanceof SafeFs.SafeFsError && (e.kind === "Symlink" || e.kind === "TooLarge" ||
          (e.kind === "NotRegular" && !e.detail.startsWith("is a directory")))) return e
        throw e
      }),
    catch: (cause) =>
      new CodetetherConfigError({
        reason: "Io",
        path,
        message: cause instanceof SafeFs.SafeFsError && cause.detail.startsWith("is a directory")
          ? `Cannot read config file ${path}: it is a directory`
          : `Cannot read config file ${path}: ${
            cause instanceof SafeFs.SafeFsError ? cause.detail : describeError(cause)
          }`,
        cause
      })
  })
  if (read === undefined) return { file: { path, scope, found: false }, values: undefined }
  if (read instanceof SafeFs.SafeFsError) {
    yield* Effect.logWarning(`Skipping config file ${read.message}`)
    return { file: { path, scope, found: false, skipped: read.detail }, values: undefined }
  }
  const text = read.toString("utf8")
  const source = text.startsWith("\uFEFF") ? text.slice(1) : text
  const root = yield* Effect.try({ try: () => Toml.parse(source), catch: (cause) => parseError(path, source, cause) })
  if (scope === "project") {
    for (const key of removeSensitive(root as Record<string, unknown>)) {
      yield* Effect.logWarning(
        `Ignoring "${key}" in the project config file ${path}: keys that move data or secrets are read only from ${
          options.userPath === null ? "the user config file" : `the user config file ${options.userPath}`
        }, the environment or a flag`
      )
    }
  }
  const values = readValues(path, source, root)
  if (values instanceof CodetetherConfigError) return yield* values
  return { file: { path, scope, found: true }, values }
})

// ---------------------------------------------------------------------------
// Environment
// ---------------------------------------------------------------------------

/**
 * The environment variable of each `ProvenanceEnv` field (4.5.7
 * `ExecutionProvenance::for_session`).
 *
 * @since 0.1.0
 * @category constants
 */
export const PROVENANCE_ENV_VARS: { readonly [K in keyof Provenance.ProvenanceEnv]-?: string } = {
  taskId: "CODETETHER_TASK_ID",
  runId: "CODETETHER_RUN_ID",
  attemptId: "CODETETHER_ATTEMPT_ID",
  tenantId: "CODETETHER_TENANT_ID",
  agentIdentityId: "CODETETHER_AGENT_IDENTITY_ID",
  workerId: "CODETETHER_WORKER_ID",
  keyId: "CODETETHER_KEY_ID",
  githubInstallationId: "CODETETHER_GITHUB_INSTALLATION_ID",
  githubAppId: "CODETETHER_GITHUB_APP_ID"
}

/**
 * The API key variables of each provider, in registration order, as the
 * provider registry reads them: `openai` (`OPENAI_API_KEY`), `anthropic`
 * (`ANTHROPIC_API_KEY`), then the OpenAI-compatible presets (first set
 * variable wins).
 *
 * @since 0.1.0
 * @category constants
 */
export const API_KEY_ENV_VARS: ReadonlyArray<readonly [provider: string, envVars: ReadonlyArray<string>]> = [
  ["openai", ["OPENAI_API_KEY"]],
  ["anthropic", ["ANTHROPIC_API_KEY"]],
  ...presets.map((preset) => [preset.name, preset.keyVariables] as const)
]

/**
 * Reads the `CODETETHER_*` provenance variables through `Config`. A variable
 * the config provider reports as unset is absent. Note: Effect's default
 * provider (`ConfigProvider.fromEnv()`) reports an empty variable as unset;
 * install `ConfigProvider.fromEnv({ preserveEmptyStrings: true })` for 4.5.7's
 * "set, even if empty" reading (then `CODETETHER_WORKER_ID=` gives origin
 * `worker` with an empty worker id, as in 4.5.7).
 *
 * @since 0.1.0
 * @category environment
 */
export const provenanceEnv: Effect.Effect<Provenance.ProvenanceEnv, Config.ConfigError> = Effect.gen(function*() {
  const env: { -readonly [K in keyof Provenance.ProvenanceEnv]: string } = {}
  for (const [field, name] of Object.entries(PROVENANCE_ENV_VARS) as Array<[keyof Provenance.ProvenanceEnv, string]>) {
    const value = yield* Config.option(Config.String(name))
    if (Option.isSome(value)) env[field] = value.value
  }
  return env
})

const nonEmpty = (name: string) =>
  Config.option(Config.String(name)).pipe(Config.map(Option.filter((value) => value.trim().length > 0)))

const positiveInt = Effect.fnUntraced(function*(name: string) {
  const raw = yield* nonEmpty(name)
  if (Option.isNone(raw)) return Option.none<number>()
  const text = raw.value.trim()
  const value = /^\+?\d+$/.test(text) ? Number(text) : Number.NaN
  if (Number.isSafeInteger(value) && value > 0) return Option.some(value)
  yield* Effect.logWarning(`Ignoring ${name}=${JSON.stringify(raw.value)}: not a positive integer`)
  return Option.none<number>()
})

// ---------------------------------------------------------------------------
// Resolution
// ---------------------------------------------------------------------------

/**
 * Options of {@link make}: CLI flag overrides, the directory project files
 * are looked up in (default: the process cwd), the user config file
 * (default: the XDG location in the module docs; `null` = no user file), and
 * whether project files are read at all.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly flags?: Flags | undefined
  readonly cwd?: string | undefined
  readonly userConfigPath?: string | null | undefined
  /** `false`: read no project config file (default `true`). */
  readonly projectFiles?: boolean | undefined
}

/**
 * The user config file: `$XDG_CONFIG_HOME/codetether-agent/config.toml` when
 * `XDG_CONFIG_HOME` is an absolute path, else
 * `$HOME/.config/codetether-agent/config.toml` (`HOME` read through `Config`,
 * falling back to the OS home directory).
 *
 * @since 0.1.0
 * @category files
 */
export const userConfigPath: Effect.Effect<string, Config.ConfigError> = Effect.map(
  Workspace.userConfigDir,
  (dir) => NodePath.join(dir, "config.toml")
)

/**
 * Largest config file read (bytes): 16 MiB.
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX_FILE_BYTES = SafeFs.SMALL_FILE_CAP

/**
 * The project config files for `cwd`, lowest precedence first:
 * `<cwd>/codetether.toml`, `<cwd>/.codetether/config.toml` (4.5.7).
 *
 * @since 0.1.0
 * @category files
 */
export const projectConfigPaths = (cwd: string): ReadonlyArray<string> => [
  NodePath.join(cwd, "codetether.toml"),
  NodePath.join(cwd, ".codetether", "config.toml")
]

const DEFAULT: Source = { kind: "default" }

const envError = (error: Config.ConfigError): CodetetherConfigError =>
  new CodetetherConfigError({
    reason: "Env",
    message: `Cannot read the configuration from the environment: ${error.message}`,
    cause: error
  })

const checkFlag = (name: string, value: number | undefined): CodetetherConfigError | undefined =>
  value === undefined || (Number.isSafeInteger(value) && value > 0)
    ? undefined
    : new CodetetherConfigError({
      reason: "InvalidValue",
      key: name,
      message: `Invalid ${name} ${value}: must be a positive integer`
    })

/**
 * Loads and merges the configuration (see the module docs for files, keys
 * and precedence) and builds the service.
 *
 * Fails with `CodetetherConfigError`: `Parse` / `InvalidValue` / `Io` for a
 * config file (naming it, the key and the line when known), `InvalidValue`
 * for a flag that is not a positive integer, `Env` when the config provider
 * fails.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = Effect.fn("CodetetherConfig.make")(function*(options: Options = {}) {
  const flags = options.flags ?? {}
  for (const [name, value] of [["--max-steps", flags.maxSteps], ["--max-tokens", flags.maxTokens]] as const) {
    const error = checkFlag(name, value)
    if (error !== undefined) return yield* error
  }
  const cwd = NodePath.resolve(options.cwd ?? process.cwd())
  const userPath = options.userConfigPath === undefined
    ? yield* Effect.mapError(userConfigPath, envError)
    : options.userConfigPath

  const locations: Array<readonly [string, ConfigFile["scope"]]> = []
  if (userPath !== null) locations.push([userPath, "user"])
  if (options.projectFiles !== false) for (const path of projectConfigPaths(cwd)) locations.push([path, "project"])
  const loaded = yield* Effect.forEach(locations, ([path, scope]) =>
    readConfigFile(path, scope, {
      follow: scope === "user" ? Workspace.followAnywhere(path) : { within: cwd },
      userPath
    }))

  let model = defaultSettings.model
  let fallbackModels = defaultSettings.fallbackModels
  let maxSteps = defaultSettings.maxSteps
  let maxTokens = defaultSettings.maxTokens
  const rlm: { -readonly [K in keyof Settings["rlm"]]: Settings["rlm"][K] } = { ...defaultSettings.rlm }
  const apiKeys: Array<ApiKeySetting> = []
  let databaseUrl = defaultSettings.databaseUrl
  let bashPassEnv = defaultSettings.bashPassEnv
  let redaction = defaultSettings.redaction
  let pricing: Setting<Pricing.PriceTable> | undefined

  for (const { values } of loaded) {
    if (values === undefined) continue
    const source: Source = { kind: "file", path: values.path }
    if (values.model !== undefined) model = { value: values.model, source }
    if (values.fallbackModels !== undefined) fallbackModels = { value: values.fallbackModels, source }
    if (values.maxSteps !== undefined) maxSteps = { value: values.maxSteps, source }
    if (values.maxTokens !== undefined) maxTokens = { value: values.maxTokens, source }
    for (const name of rlmFields) {
      const value = values.rlm[name]
      if (value !== undefined) (rlm as Record<string, Setting<unknown>>)[name] = { value, source }
    }
    if (values.databaseUrl !== undefined) databaseUrl = { value: Redacted.make(values.databaseUrl), source }
    if (values.passEnv !== undefined) bashPassEnv = { value: values.passEnv, source }
    if (values.redaction !== undefined) redaction = { value: values.redaction, source }
    if (values.pricing !== undefined) pricing = { value: Pricing.merge(pricing?.value ?? {}, values.pricing), source }
  }

  const env = yield* Effect.gen(function*() {
    const defaultModel = yield* nonEmpty("CODETETHER_DEFAULT_MODEL")
    if (Option.isSome(defaultModel)) {
      model = { value: defaultModel.value, source: { kind: "env", name: "CODETETHER_DEFAULT_MODEL" } }
    }
    const envModel = yield* nonEmpty("CODETETHER_MODEL")
    if (Option.isSome(envModel)) model = { value: envModel.value, source: { kind: "env", name: "CODETETHER_MODEL" } }
    const envFallbacks = yield* nonEmpty("CODETETHER_FALLBACK_MODELS")
    if (Option.isSome(envFallbacks)) {
      fallbackModels = {
        value: envFallbacks.value.split(",").map((m) => m.trim()).filter((m) => m.length > 0),
        source: { kind: "env", name: "CODETETHER_FALLBACK_MODELS" }
      }
    }
    const envSteps = yield* positiveInt("CODETETHER_MAX_STEPS")
    if (Option.isSome(envSteps)) {
      maxSteps = { value: envSteps.value, source: { kind: "env", name: "CODETETHER_MAX_STEPS" } }
    }
    const envDatabaseUrl = yield* nonEmpty("CODETETHER_DATABASE_URL")
    if (Option.isSome(envDatabaseUrl)) {
      databaseUrl = {
        value: Redacted.make(envDatabaseUrl.value.trim()),
        source: { kind: "env", name: "CODETETHER_DATABASE_URL" }
      }
    }
    const envTokens = yield* positiveInt("CODETETHER_SESSION_MAX_TOKENS")
    if (Option.isSome(envTokens)) {
      maxTokens = { value: envTokens.value, source: { kind: "env", name: "CODETETHER_SESSION_MAX_TOKENS" } }
    }
    for (const [provider, envVars] of API_KEY_ENV_VARS) {
      const key = yield* firstSecret(envVars)
      apiKeys.push(
        Option.isSome(key)
          ? { provider, envVars, value: Option.some(key.value.key), source: { kind: "env", name: key.value.name } }
          : { provider, envVars, value: Option.none(), source: DEFAULT }
      )
    }
    return yield* provenanceEnv
  }).pipe(Effect.mapError(envError))

  if (flags.model !== undefined) model = { value: flags.model, source: { kind: "flag", name: "--model" } }
  if (flags.maxSteps !== undefined) maxSteps = { value: flags.maxSteps, source: { kind: "flag", name: "--max-steps" } }
  if (flags.maxTokens !== undefined) {
    maxTokens = { value: flags.maxTokens, source: { kind: "flag", name: "--max-tokens" } }
  }
  if (flags.databaseUrl !== undefined) {
    databaseUrl = { value: Redacted.make(flags.databaseUrl), source: { kind: "flag", name: "--database-url" } }
  }

  const settings: Settings = {
    model,
    fallbackModels,
    maxSteps,
    maxTokens,
    rlm,
    apiKeys,
    databaseUrl,
    bashPassEnv,
    redaction,
    pricing
  }
  return fromSettings(settings, {
    files: loaded.map(({ file }) => file),
    provenanceEnv: env
  })
})

/**
 * The effective `database_url` alone, with its source: the `--database-url`
 * flag (`flags.databaseUrl`), else `CODETETHER_DATABASE_URL`, else
 * `database_url` in the user config file (project files never set it), else
 * unset (`null`). Reads only the user file, so choosing the session store
 * does not depend on the files of the current directory. Fails like
 * {@link make} for an unreadable or invalid user file.
 *
 * @since 0.1.0
 * @category constructors
 */
export const resolveDatabaseUrl = Effect.fn("CodetetherConfig.resolveDatabaseUrl")(function*(
  options: Pick<Options, "flags" | "userConfigPath"> = {}
) {
  const flag = options.flags?.databaseUrl
  if (flag !== undefined) {
    return { value: Redacted.make(flag), source: { kind: "flag", name: "--database-url" } } satisfies Settings["databaseUrl"]
  }
  const env = yield* nonEmpty("CODETETHER_DATABASE_URL").pipe(Effect.mapError(envError))
  if (Option.isSome(env)) {
    return {
      value: Redacted.make(env.value.trim()),
      source: { kind: "env", name: "CODETETHER_DATABASE_URL" }
    } satisfies Settings["databaseUrl"]
  }
  const userPath = options.userConfigPath === undefined
    ? yield* Effect.mapError(userConfigPath, envError)
    : options.userConfigPath
  if (userPath === null) return defaultSettings.databaseUrl
  const { values } = yield* readConfigFile(userPath, "user", { follow: Workspace.followAnywhere(userPath), userPath })
  return values?.databaseUrl === undefined
    ? defaultSettings.databaseUrl
    : { value: Redacted.make(values.databaseUrl), source: { kind: "file", path: userPath } } satisfies Settings["databaseUrl"]
})

/**
 * Builds the service from already-resolved settings (used by {@link make};
 * also handy for embedders and tests that want a fixed configuration).
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromSettings = (
  settings: Settings,
  options: {
    readonly files?: ReadonlyArray<ConfigFile> | undefined
    readonly provenanceEnv?: Provenance.ProvenanceEnv | undefined
    /** Default `true`; see the service's `readsEnvironment`. */
    readonly readsEnvironment?: boolean | undefined
  } = {}
): CodetetherConfig["Service"] => {
  const rlm: RlmConfig.RlmConfig = {
    mode: settings.rlm.mode.value,
    threshold: settings.rlm.threshold.value,
    maxIterations: settings.rlm.maxIterations.value,
    maxSubcalls: settings.rlm.maxSubcalls.value,
    runtime: settings.rlm.runtime.value,
    rootModel: settings.rlm.rootModel.value,
    subcallModel: settings.rlm.subcallModel.value
  }
  const env = options.provenanceEnv ?? {}
  return CodetetherConfig.of({
    model: settings.model.value,
    fallbackModels: settings.fallbackModels.value,
    maxSteps: settings.maxSteps.value,
    maxTokens: settings.maxTokens.value,
    rlm,
    databaseUrl: settings.databaseUrl.value,
    bashPassEnv: settings.bashPassEnv.value,
    redaction: settings.redaction.value,
    pricing: Pricing.merge(Pricing.builtIn, settings.pricing?.value ?? {}),
    provenanceEnv: env,
    settings,
    files: options.files ?? [],
    readsEnvironment: options.readsEnvironment ?? true,
    newSession: (directory) =>
      Effect.map(Timestamp.now, (now) =>
        Session.applyConfig(
          Session.make({
            id: NodeCrypto.randomUUID(),
            now,
            directory,
            provenanceUuid: NodeCrypto.randomUUID(),
            env
          }),
          rlm
        )).pipe(Effect.withSpan("CodetetherConfig.newSession")),
    apply: (session, registry) => applyConfig(session, rlm, registry)
  })
}

/**
 * Settings with every value at its built-in default and no API keys.
 *
 * @since 0.1.0
 * @category constructors
 */
export const defaultSettings: Settings = {
  model: { value: null, source: DEFAULT },
  fallbackModels: { value: [], source: DEFAULT },
  maxSteps: { value: Session.DEFAULT_MAX_STEPS, source: DEFAULT },
  maxTokens: { value: DEFAULT_MAX_TOKENS, source: DEFAULT },
  rlm: {
    mode: { value: RlmConfig.defaults.mode, source: DEFAULT },
    threshold: { value: RlmConfig.defaults.threshold, source: DEFAULT },
    maxIterations: { value: RlmConfig.defaults.maxIterations, source: DEFAULT },
    maxSubcalls: { value: RlmConfig.defaults.maxSubcalls, source: DEFAULT },
    runtime: { value: RlmConfig.defaults.runtime, source: DEFAULT },
    rootModel: { value: RlmConfig.defaults.rootModel, source: DEFAULT },
    subcallModel: { value: RlmConfig.defaults.subcallModel, source: DEFAULT }
  },
  apiKeys: [],
  databaseUrl: { value: null, source: DEFAULT },
  bashPassEnv: { value: [], source: DEFAULT },
  redaction: { value: true, source: DEFAULT }
}

/**
 * The live configuration: user and project files for the process cwd,
 * environment through `Config`, no flags.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<CodetetherConfig, CodetetherConfigError> = Layer.effect(CodetetherConfig, make())

/**
 * The configuration with CLI flag overrides and/or another directory for the
 * project files or user file (see {@link Options}).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWith = (options: Options): Layer.Layer<CodetetherConfig, CodetetherConfigError> =>
  Layer.effect(CodetetherConfig, make(options))

/**
 * Built-in defaults only: no files, no environment, no provenance variables
 * (tests and embedders).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerDefaults: Layer.Layer<CodetetherConfig> = Layer.succeed(
  CodetetherConfig,
  fromSettings(defaultSettings)
)

/**
 * The configuration from the environment only, read through Effect `Config`
 * (the process environment by default, or whatever `ConfigProvider` the app
 * installs, e.g. `ConfigProvider.fromUnknown({ CODETETHER_MODEL: "openai/gpt-4o" })`):
 * the same variables as {@link layer}, and no config file at all (neither the
 * user's nor the current directory's project files).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerEnv: Layer.Layer<CodetetherConfig, CodetetherConfigError> = Layer.effect(
  CodetetherConfig,
  make({ userConfigPath: null, projectFiles: false })
)

/**
 * Settings given in code by an embedding app; every key is optional (absent:
 * the built-in default). `maxSteps` and `maxTokens` are positive integers
 * (steps; tokens per completion request); `rlm` keys override the RLM
 * defaults one by one; `provenanceEnv` seeds new sessions' provenance (default
 * none: nothing is read from the environment).
 *
 * @since 0.1.0
 * @category models
 */
export interface Values {
  readonly model?: string | null | undefined
  readonly maxSteps?: number | undefined
  readonly maxTokens?: number | undefined
  readonly rlm?: Partial<RlmConfig.RlmConfig> | undefined
  readonly databaseUrl?: Redacted.Redacted<string> | null | undefined
  readonly bashPassEnv?: ReadonlyArray<string> | undefined
  readonly redaction?: boolean | undefined
  /** `fallback_models`: models tried in order when the session's model fails after its retries. */
  readonly fallbackModels?: ReadonlyArray<string> | undefined
  readonly provenanceEnv?: Provenance.ProvenanceEnv | undefined
}

/**
 * The service from {@link Values}: each given value with source `value`,
 * the rest at the built-in defaults; no file and no environment variable is
 * read. Fails with `InvalidValue` (naming the key) when `maxSteps` or
 * `maxTokens` is not a positive integer.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromValues = (values: Values): Effect.Effect<CodetetherConfig["Service"], CodetetherConfigError> =>
  Effect.gen(function*() {
    for (const [key, value] of [["maxSteps", values.maxSteps], ["maxTokens", values.maxTokens]] as const) {
      const error = checkFlag(key, value)
      if (error !== undefined) return yield* error
    }
    const VALUE: Source = { kind: "value" }
    const set = <A>(value: A | undefined, fallback: Setting<A>): Setting<A> =>
      value === undefined ? fallback : { value, source: VALUE }
    const rlm = { ...defaultSettings.rlm } as { -readonly [K in keyof Settings["rlm"]]: Settings["rlm"][K] }
    for (const name of rlmFields) {
      const value = values.rlm?.[name]
      if (value !== undefined) (rlm as Record<string, Setting<unknown>>)[name] = { value, source: VALUE }
    }
    const settings: Settings = {
      model: set(values.model, defaultSettings.model),
      maxSteps: set(values.maxSteps, defaultSettings.maxSteps),
      maxTokens: set(values.maxTokens, defaultSettings.maxTokens),
      rlm,
      apiKeys: [],
      databaseUrl: set(values.databaseUrl, defaultSettings.databaseUrl),
      bashPassEnv: set(values.bashPassEnv, defaultSettings.bashPassEnv),
      redaction: set(values.redaction, defaultSettings.redaction),
      fallbackModels: set(values.fallbackModels, defaultSettings.fallbackModels)
    }
    return fromSettings(settings, { provenanceEnv: values.provenanceEnv ?? {}, readsEnvironment: false })
  })

/**
 * The configuration as a value ({@link fromValues}): no config file and no
 * environment variable is read, so nothing in the app's current directory or
 * home can change or break it.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerValue = (values: Values): Layer.Layer<CodetetherConfig, CodetetherConfigError> =>
  Layer.effect(CodetetherConfig, fromValues(values))

/**
 * Human form of a {@link Source}: `default`, `file <path>`, `env <NAME>`,
 * `flag <--name>`, `value`.
 *
 * @since 0.1.0
 * @category formatting
 */
export const formatSource = (source: Source): string => {
  switch (source.kind) {
    case "default":
      return "default"
    case "file":
      return `file ${source.path}`
    case "env":
      return `env ${source.name}`
    case "flag":
      return `flag ${source.name}`
    case "value":
      return "value"
  }
}
