/**
 * `codetether providers`: the registered model providers, their default
 * models and base URLs (never a key: only the name of the variable it came
 * from; credentials or query strings in a base URL are not printed either),
 * and where each came from: `builtin` / `preset` (the environment), or the
 * providers file and how far it is trusted.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Command from "effect/cli/Command"
import * as ProviderSchema from "../../schemas/Provider.ts"
import * as ProviderRegistry from "../../services/ProviderRegistry.ts"
import { json, printLine, printText } from "./shared.ts"

/**
 * One provider as `--json` prints it.
 *
 * @since 0.1.0
 * @category models
 */
export interface ProviderInfo {
  readonly name: string
  readonly kind: ProviderRegistry.Kind
  readonly default_model: string
  readonly base_url: string
  readonly key_variable: string | null
  readonly source: string | null
  /** The providers file of a custom provider (`null` otherwise). */
  readonly file: string | null
  /** How far that file is trusted: `user`, `outside-workspace`, `trusted`, `untrusted` (`null` otherwise). */
  readonly trust: ProviderRegistry.Trust | null
  /** Whether this provider is used when the selector names none. */
  readonly default: boolean
}

/**
 * A base URL without user info, query or fragment (they may hold secrets).
 *
 * @since 0.1.0
 * @category rendering
 */
export const displayUrl = (url: string): string => {
  if (!URL.canParse(url)) return url.replace(/\/\/[^/@]*@/, "//").replace(/[?#].*$/, "")
  const parsed = new URL(url)
  parsed.username = ""
  parsed.password = ""
  parsed.search = ""
  parsed.hash = ""
  return parsed.toString().replace(/\/$/, "")
}

/**
 * The rows of the listing, in registration order.
 *
 * @since 0.1.0
 * @category rendering
 */
export const infos = (providers: ReadonlyArray<ProviderRegistry.Provider>): ReadonlyArray<ProviderInfo> => {
  const preferred = ProviderSchema.preferred(providers.map((p) => p.name))
  return providers.map((p) => ({
    name: p.name,
    kind: p.kind,
    default_model: p.defaultModel,
    base_url: displayUrl(p.baseUrl),
    key_variable: p.keyVariable ?? null,
    source: p.source ?? null,
    file: p.origin?.path ?? null,
    trust: p.origin?.trust ?? null,
    default: p.name === preferred
  }))
}

const TRUST_TEXT: { readonly [K in ProviderRegistry.Trust]: string } = {
  user: "your providers file",
  "outside-workspace": "outside the workspace",
  trusted: "inside the workspace, trusted",
  untrusted: "inside the workspace, untrusted: keyless only"
}

/**
 * Where a provider came from, for humans: `builtin`, `preset`, `embedded`,
 * or `<file> (<trust>)`.
 *
 * @since 0.1.0
 * @category rendering
 */
export const origin = (row: ProviderInfo): string =>
  row.file === null
    ? row.source ?? "-"
    : `${row.file} (${row.trust === null ? "custom" : TRUST_TEXT[row.trust]})`

/**
 * The human listing: an aligned table (`*` marks the default provider; FROM
 * says where each came from), or the no-providers guidance.
 *
 * @since 0.1.0
 * @category rendering
 */
export const table = (rows: ReadonlyArray<ProviderInfo>): string => {
  if (rows.length === 0) return ProviderSchema.noProvidersMessage
  const header = ["  NAME", "KIND", "DEFAULT MODEL", "BASE URL", "KEY", "FROM"]
  const lines = rows.map((r) => [
    `${r.default ? "*" : " "} ${r.name}`,
    r.kind,
    r.default_model,
    r.base_url,
    r.key_variable ?? "-",
    origin(r)
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)))
  const format = (cells: ReadonlyArray<string>) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd()
  return [format(header), ...lines.map(format)].join("\n")
}

/**
 * `codetether providers [--json]`.
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make("providers", { json }, Effect.fn("providers")(function*({ json }) {
  const registry = yield* ProviderRegistry.ProviderRegistry
  const rows = infos(registry.list)
  yield* (json ? printLine(JSON.stringify(rows)) : printText(table(rows)))
})).pipe(
  Command.withDescription(
    "List the registered model providers (configured by environment variables and providers.json files), their default models, base URLs and where each came from"
  ),
  Command.withExamples([
    { command: "codetether providers", description: "The providers `run` can use; * marks the default" },
    { command: "codetether providers --json", description: "The same, as JSON" }
  ])
)
