/**
 * The redactor of the session loop, from the environment: on unless the
 * user config says `[redaction] enabled = false` (a project file cannot turn
 * it off: `CodetetherConfig` ignores `[redaction]` there), with the exact
 * values of the provider key variables the registry knows
 * (`ProviderRegistry.keyVariables`: built-in and preset variables, custom
 * providers' `api_key_env`) read through `Config`. The detectors are
 * `schemas/Redaction.ts`.
 *
 * @since 0.1.0
 */
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Redaction from "../schemas/Redaction.ts"
import * as CodetetherConfig from "./CodetetherConfig.ts"
import * as ProviderRegistry from "./ProviderRegistry.ts"

/**
 * The values (trimmed, {@link Redaction.MIN_SECRET_LENGTH} characters or
 * longer) of the environment variables `names`, read through `Config`. A
 * variable that cannot be read counts as unset.
 *
 * @since 0.1.0
 * @category constructors
 */
export const secretsOf = (names: Iterable<string>): Effect.Effect<ReadonlyArray<Redaction.Secret>> =>
  Effect.gen(function*() {
    const secrets: Array<Redaction.Secret> = []
    for (const name of new Set(names)) {
      const value = yield* Config.option(Config.Redacted(name)).pipe(Effect.orElseSucceed(() => Option.none()))
      if (Option.isNone(value)) continue
      const trimmed = Redacted.value(value.value).trim()
      if (trimmed.length >= Redaction.MIN_SECRET_LENGTH) secrets.push({ name, value: trimmed })
    }
    return secrets
  })

/**
 * The redactor of the configuration and registry in context: disabled when
 * the effective `redaction` setting is `false`, else with the secrets of
 * {@link secretsOf} the registry's `keyVariables` (none when the
 * configuration was given as values and reads no environment variable).
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromConfig: Effect.Effect<
  Redaction.Redactor,
  never,
  CodetetherConfig.CodetetherConfig | ProviderRegistry.ProviderRegistry
> = Effect.gen(function*() {
  const config = yield* CodetetherConfig.CodetetherConfig
  if (!config.redaction) return Redaction.disabled
  // a configuration given as values reads no variable: only the key formats apply
  if (!config.readsEnvironment) return Redaction.make({ secrets: [] })
  const registry = yield* ProviderRegistry.ProviderRegistry
  return Redaction.make({ secrets: yield* secretsOf(registry.keyVariables) })
})
