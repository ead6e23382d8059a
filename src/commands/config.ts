/**
 * `codetether config [--json]`: prints the effective configuration and where
 * each value came from (default, a config file, an environment variable, a
 * flag). API keys are never printed: only whether they are set
 * (`<redacted>`) and by which variable.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Command from "effect/cli/Command"
import * as CodetetherConfig from "../../services/CodetetherConfig.ts"
import * as DataDir from "../../services/DataDir.ts"
import { json, printLine } from "./shared.ts"

/**
 * One printed row: a config key, its value as JSON (secrets replaced by
 * `"<redacted>"`), and its source.
 *
 * @since 0.1.0
 * @category models
 */
export interface Row {
  readonly key: string
  readonly value: string | number | null
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
 * The rows `codetether config` prints, in order: `data_dir`,
 * `default_model`, `session.*`, `rlm.*`, `providers.<name>.api_key`.
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
    { key: "default_model", value: s.model.value, source: s.model.source },
    { key: "session.max_steps", value: s.maxSteps.value, source: s.maxSteps.source },
    { key: "session.max_completion_tokens", value: s.maxTokens.value, source: s.maxTokens.source },
    { key: "rlm.mode", value: rlm.mode.value, source: rlm.mode.source },
    { key: "rlm.threshold", value: rlm.threshold.value, source: rlm.threshold.source },
    { key: "rlm.max_iterations", value: rlm.maxIterations.value, source: rlm.maxIterations.source },
    { key: "rlm.max_subcalls", value: rlm.maxSubcalls.value, source: rlm.maxSubcalls.source },
    { key: "rlm.runtime", value: rlm.runtime.value, source: rlm.runtime.source },
    { key: "rlm.root_model", value: rlm.rootModel.value, source: rlm.rootModel.source },
    { key: "rlm.subcall_model", value: rlm.subcallModel.value, source: rlm.subcallModel.source },
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
    lines.push(`  ${file.scope.padEnd(7)}  ${file.path}${file.found ? "" : "  (not found)"}`)
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
 * `codetether config [--json]`. Needs `CodetetherConfig` and `DataDir`.
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
    yield* printLine(json ? JSON.stringify(toJson(config, dataDir), null, 2) : toText(config, dataDir))
  })
).pipe(Command.withDescription("Show the effective configuration and where each value came from"))
