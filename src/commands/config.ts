/**
 * `codetether config [--json]`: prints the effective configuration and where
 * each value came from (default, a config file, an environment variable, a
 * flag). API keys are never printed: only whether they are set
 * (`<redacted>`) and by which variable; `database_url` is shown without its
 * password.
 *
 * `codetether config trust [FILE]`: trusts a providers file inside the
 * workspace (default: `<data_dir>/providers.json`), so its custom providers
 * may read their key variables (see `services/ProviderTrust.ts`).
 *
 * @since 0.1.0
 */
import * as NodePath from "node:path"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Argument from "effect/cli/Argument"
import * as Command from "effect/cli/Command"
import * as CodetetherConfig from "../../services/CodetetherConfig.ts"
import * as DataDir from "../../services/DataDir.ts"
import * as ProviderTrust from "../../services/ProviderTrust.ts"
import * as CustomProviders from "../../services/providers/CustomProviders.ts"
import { redactPassword } from "../../services/providers/SafeFetch.ts"
import { currentDirectory, json, printLine, printText } from "./shared.ts"

/**
 * One printed row: a config key, its value as JSON (secrets replaced by
 * `"<redacted>"`), and its source.
 *
 * @since 0.1.0
 * @category models
 */
export interface Row {
  readonly key: string
  readonly value: string | number | boolean | null
  readonly source: CodetetherConfig.Source | { readonly kind: "git" | "cwd" }
}

const REDACTED = "<redacted>"

const dataDirSource = (source: DataDir.Source): Row["source"] => {
  switch (source) {
    case "explicit":
      return { kind: "flag", name: "--data-dir" }
    case "env":
      return { kind: "env", name: "CODETETHER_DATA_DIR" }
    case "git":
      return { kind: "git" }
    case "cwd":
      return { kind: "cwd" }
  }
}

const formatRowSource = (source: Row["source"]): string => {
  switch (source.kind) {
    case "git":
      return "git root of the current directory"
    case "cwd":
      return "current directory (no git root)"
    default:
      return CodetetherConfig.formatSource(source)
  }
}

/**
 * The rows `codetether config` prints, in order: `data_dir`, `store`
 * (where sessions are kept: `files <data_dir>/sessions`, or `postgresql
 * <url>` with the password redacted), `default_model`, `fallback_models` (comma-separated), `session.*`, `rlm.*`, `database_url` (password
 * redacted), `tools.bash.pass_env` (comma-separated), `redaction.enabled`,
 * `pricing."<model>"` (each price a config file sets), `providers.<name>.api_key`.
 *
 * @since 0.1.0
 * @category rendering
 */
export const rows = (
  config: CodetetherConfig.CodetetherConfig["Service"],
  dataDir: DataDir.DataDir["Service"]
): ReadonlyArray<Row> => {
  const s = config.settings
  const rlm = s.rlm
  return [
    { key: "data_dir", value: dataDir.path, source: dataDirSource(dataDir.source) },
    s.databaseUrl.value === null
      ? { key: "store", value: `files ${dataDir.sessionsDir}`, source: dataDirSource(dataDir.source) }
      : {
        key: "store",
        value: `postgresql ${redactPassword(Redacted.value(s.databaseUrl.value))}`,
        source: s.databaseUrl.source
      },
    { key: "default_model", value: s.model.value, source: s.model.source },
    {
      key: "fallback_models",
      value: s.fallbackModels.value.length === 0 ? null : s.fallbackModels.value.join(","),
      source: s.fallbackModels.source
    },
    { key: "session.max_steps", value: s.maxSteps.value, source: s.maxSteps.source },
    { key: "session.max_completion_tokens", value: s.maxTokens.value, source: s.maxTokens.source },
    { key: "rlm.mode", value: rlm.mode.value, source: rlm.mode.source },
    { key: "rlm.threshold", value: rlm.threshold.value, source: rlm.threshold.source },
    { key: "rlm.max_iterations", value: rlm.maxIterations.value, source: rlm.maxIterations.source },
    { key: "rlm.max_subcalls", value: rlm.maxSubcalls.value, source: rlm.maxSubcalls.source },
    { key: "rlm.runtime", value: rlm.runtime.value, source: rlm.runtime.source },
    { key: "rlm.root_model", value: rlm.rootModel.value, source: rlm.rootModel.source },
    { key: "rlm.subcall_model", value: rlm.subcallModel.value, source: rlm.subcallModel.source },
    {
      key: "database_url",
      value: s.databaseUrl.value === null ? null : redactPassword(Redacted.value(s.databaseUrl.value)),
      source: s.databaseUrl.source
    },
    {
      key: "tools.bash.pass_env",
      value: s.bashPassEnv.value.length === 0 ? null : s.bashPassEnv.value.join(","),
      source: s.bashPassEnv.source
    },
    { key: "redaction.enabled", value: s.redaction.value, source: s.redaction.source },
    ...Object.entries(s.pricing?.value ?? {}).map(([model, price]): Row => ({
      key: `pricing.${JSON.stringify(model)}`,
      value: `input ${price.input}, output ${price.output}, cache_read ${price.cacheRead ?? price.input}, cache_write ${
        price.cacheWrite ?? price.input
      } USD per million tokens`,
      source: s.pricing!.source
    })),
    ...s.apiKeys.map((apiKey): Row => ({
      key: `providers.${apiKey.provider}.api_key`,
      value: Option.isSome(apiKey.value) ? REDACTED : null,
      source: apiKey.source
    }))
  ]
}

/**
 * The JSON document `codetether config --json` prints: `settings` keyed by
 * config key (`{value, source}`; `source` is `{kind:"default"}`,
 * `{kind:"file",path}`, `{kind:"env",name}`, `{kind:"flag",name}`, or for
 * the data dir `{kind:"git"}` / `{kind:"cwd"}`), the config `files`
 * considered, and the `provenance` variables (`null` when unset).
 *
 * @since 0.1.0
 * @category rendering
 */
export const toJson = (
  config: CodetetherConfig.CodetetherConfig["Service"],
  dataDir: DataDir.DataDir["Service"]
): unknown => ({
  settings: Object.fromEntries(rows(config, dataDir).map((row) => [row.key, { value: row.value, source: row.source }])),
  files: config.files,
  provenance: Object.fromEntries(
    Object.entries(CodetetherConfig.PROVENANCE_ENV_VARS).map(([field, name]) => [
      name,
      config.provenanceEnv[field as keyof typeof CodetetherConfig.PROVENANCE_ENV_VARS] ?? null
    ])
  )
})

const show = (value: Row["value"]): string => (value === null ? "(unset)" : String(value))

/**
 * The human form: one aligned `key  value  source` line per row, then the
 * config files (found or not) and the provenance variables that are set.
 *
 * @since 0.1.0
 * @category rendering
 */
export const toText = (
  config: CodetetherConfig.CodetetherConfig["Service"],
  dataDir: DataDir.DataDir["Service"]
): string => {
  const all = rows(config, dataDir)
  const keyWidth = Math.max(...all.map((row) => row.key.length))
  const valueWidth = Math.max(...all.map((row) => show(row.value).length))
  const lines = all.map((row) =>
    `${row.key.padEnd(keyWidth)}  ${show(row.value).padEnd(valueWidth)}  ${formatRowSource(row.source)}`
  )
  lines.push("", "config files (lowest precedence first):")
  for (const file of config.files) {
    const note = file.found ? "" : file.skipped !== undefined ? `  (skipped: ${file.skipped})` : "  (not found)"
    lines.push(`  ${file.scope.padEnd(7)}  ${file.path}${note}`)
  }
  const provenance = Object.entries(CodetetherConfig.PROVENANCE_ENV_VARS).flatMap(([field, name]) => {
    const value = config.provenanceEnv[field as keyof typeof CodetetherConfig.PROVENANCE_ENV_VARS]
    return value === undefined ? [] : [`  ${name}=${value}`]
  })
  lines.push("", provenance.length === 0 ? "provenance: no CODETETHER_* provenance variables set" : "provenance:")
  lines.push(...provenance)
  return lines.join("\n")
}

/**
 * `codetether config trust [FILE]`: reads the providers file (default
 * `<data_dir>/providers.json`; relative paths against the current
 * directory), checks that it is valid, and records its absolute path and
 * SHA-256 in the user's trust store. Prints what it trusted and which of its
 * providers read a key variable. Needs `DataDir`.
 *
 * @since 0.1.0
 * @category commands
 */
export const trustCommand = Command.make(
  "trust",
  {
    file: Argument.String("file").pipe(
      Argument.withDescription("The providers file to trust (default: <data_dir>/providers.json)"),
      Argument.optional
    )
  },
  Effect.fn("config.trust")(function*({ file }) {
    const dataDir = yield* DataDir.DataDir
    const cwd = yield* currentDirectory
    const path = Option.match(file, {
      onNone: () => NodePath.join(dataDir.path, CustomProviders.FILE_NAME),
      onSome: (given) => NodePath.resolve(cwd, given)
    })
    const loaded = yield* CustomProviders.read(path, { follow: { within: NodePath.parse(path).root } })
    if (loaded === undefined) {
      return yield* new ProviderTrust.ProviderTrustError({
        reason: "Io",
        path,
        message: `Cannot trust ${path}: no such providers file (or not a regular file)`
      })
    }
    const store = yield* ProviderTrust.storePath
    const record = yield* ProviderTrust.trust(store, loaded.path, loaded.sha256)
    const keyed = loaded.providers.flatMap((p) => (p.apiKeyEnv === undefined ? [] : [`${p.name} (${p.apiKeyEnv})`]))
    yield* printText(
      `Trusted ${record.path} (sha256 ${record.sha256}) in ${store}.\n` +
        (keyed.length === 0
          ? "None of its providers reads a key variable."
          : `Its providers may now read their key variables: ${keyed.join(", ")}.`) +
        "\nA change to the file makes it untrusted again."
    )
  })
).pipe(
  Command.withDescription(
    "Trust a providers file inside the workspace (default: <data_dir>/providers.json) so its providers may read key variables"
  )
)

/**
 * `codetether config [--json]` and `codetether config trust [FILE]`. Needs
 * `CodetetherConfig` and `DataDir`.
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make(
  "config",
  { json },
  Effect.fn("config")(function*({ json }) {
    const config = yield* CodetetherConfig.CodetetherConfig
    const dataDir = yield* DataDir.DataDir
    yield* (json ? printLine(JSON.stringify(toJson(config, dataDir), null, 2)) : printText(toText(config, dataDir)))
  })
).pipe(
  Command.withDescription("Show the effective configuration and where each value came from"),
  Command.withSubcommands([trustCommand])
)
