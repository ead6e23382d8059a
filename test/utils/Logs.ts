/**
 * Captures what the code under test logs through Effect's logger.
 */
import { Effect, Logger } from "effect"

export interface Captured {
  readonly level: string
  readonly message: string
}

const render = (message: unknown): string =>
  Array.isArray(message) ? message.map((m) => (typeof m === "string" ? m : JSON.stringify(m))).join(" ") : String(message)

/** Runs `effect` with a logger that records every entry; returns its result and the entries. */
export const capture = <A, E, R>(effect: Effect.Effect<A, E, R>) => {
  const entries: Array<Captured> = []
  const logger = Logger.make((options) => {
    entries.push({ level: options.logLevel, message: render(options.message) })
  })
  return effect.pipe(
    Effect.provide(Logger.layer([logger])),
    Effect.map((value) => ({ value, logs: entries as ReadonlyArray<Captured> }))
  )
}
