/**
 * `codetether serve`: sessions over HTTP, live events over SSE, and the A2A
 * protocol (see `schemas/ServerApi.ts` for the routes and `src/Server.ts`
 * for the server).
 *
 * Binds 127.0.0.1 by default, port 4096 or the next free one (`--port`
 * picks one; `0`: any free port), and prints `listening on <url>` on stdout.
 * Every route but the A2A agent card needs `Authorization: Bearer <token>`:
 * the token is `CODETETHER_SERVER_TOKEN`, else `<data_dir>/server-token`
 * (created on first use, mode 0600). It is printed only on a terminal, as a
 * link. `--host` other than loopback needs `CODETETHER_SERVER_TOKEN`.
 *
 * SIGINT/SIGTERM stop it gracefully: no new connections, running prompts
 * interrupted as Ctrl-C does (their completed steps saved), event streams
 * closed; exit code 0.
 *
 * @since 0.1.0
 */
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import * as DataDir from "../../services/DataDir.ts"
import * as ServerToken from "../../services/ServerToken.ts"
import { currentDirectory, printLine } from "./shared.ts"

/**
 * A usage problem of `serve` (a non-loopback `--host` without
 * `CODETETHER_SERVER_TOKEN`, a bad `--cors` origin, a port in use).
 *
 * @since 0.1.0
 * @category errors
 */
export class ServeUsageError extends Schema.TaggedError<ServeUsageError>()("ServeUsageError", {
  message: Schema.String
}) {}

/**
 * The port tried first when `--port` is not given; the next 99 are tried
 * after it.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_PORT = 4096

const PORT_ATTEMPTS = 100

const addressInUse = (error: unknown): boolean => {
  const cause = (error as { readonly cause?: { readonly code?: string } })?.cause
  return cause?.code === "EADDRINUSE"
}

/**
 * The `serve` command.
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make("serve", {
  host: Flag.String("host").pipe(
    Flag.withDescription("Address to bind (default 127.0.0.1; another address needs CODETETHER_SERVER_TOKEN)"),
    Flag.withDefault("127.0.0.1")
  ),
  port: Flag.Int("port").pipe(
    Flag.withSchema(Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 65535 }))),
    Flag.withDescription(`Port (default ${DEFAULT_PORT} or the next free one; 0: any free port)`),
    Flag.optional
  ),
  maxPrompts: Flag.Int("max-prompts").pipe(
    Flag.withSchema(Schema.Int.check(Schema.isGreaterThan(0))),
    Flag.withDescription("Prompts running at once before new ones get 429 (default 8)"),
    Flag.withDefault(8)
  ),
  cors: Flag.String("cors").pipe(
    Flag.withDescription("Allow this browser origin (e.g. http://localhost:5173); repeatable; default: no CORS"),
    Flag.atLeast(0)
  )
}, Effect.fn("serve")(function*(input) {
  const envToken = Option.getOrUndefined(yield* Config.option(Config.String(ServerToken.ENV_VAR)))
  if (!ServerToken.isLoopback(input.host) && (envToken === undefined || envToken.trim().length === 0)) {
    return yield* new ServeUsageError({
      message:
        `--host ${input.host} is not a loopback address: set ${ServerToken.ENV_VAR} to a long random secret before serving on a network`
    })
  }
  const Server = yield* Effect.promise(() => import("../Server.ts"))
  const origins = Server.parseOrigins(input.cors)
  if (Result.isFailure(origins)) return yield* new ServeUsageError({ message: origins.failure })
  const directory = yield* currentDirectory
  // only now, so a refused start writes nothing
  const dataDir = yield* DataDir.DataDir
  const token = yield* ServerToken.resolve({ dataDir: dataDir.path, envToken })

  const listen = (port: number) =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const exit = yield* Server.make({
        host: input.host,
        port,
        directory,
        maxPrompts: input.maxPrompts,
        cors: origins.success
      }).pipe(Effect.provideService(ServerToken.ServerToken, token), Scope.provide(scope), Effect.exit)
      if (Exit.isFailure(exit)) yield* Scope.close(scope, exit)
      return { exit, scope }
    })

  let attempt = yield* listen(Option.getOrElse(input.port, () => DEFAULT_PORT))
  if (Option.isNone(input.port)) {
    for (let i = 1; i < PORT_ATTEMPTS && Exit.isFailure(attempt.exit); i++) {
      const failure = attempt.exit.cause.reasons.find((r) => r._tag === "Fail")
      if (failure === undefined || failure._tag !== "Fail" || !addressInUse(failure.error)) break
      attempt = yield* listen(DEFAULT_PORT + i)
    }
  }
  if (Exit.isFailure(attempt.exit)) {
    const failure = attempt.exit.cause.reasons.find((r) => r._tag === "Fail")
    if (failure !== undefined && failure._tag === "Fail") {
      const cause = (failure.error as { readonly cause?: { readonly message?: string } }).cause
      return yield* new ServeUsageError({ message: `cannot listen on ${input.host}: ${cause?.message ?? String(failure.error)}` })
    }
    return yield* Effect.failCause(attempt.exit.cause)
  }
  const running = attempt.exit.value

  yield* printLine(`listening on ${running.url}`)
  const source = token.source === "env" ? `$${ServerToken.ENV_VAR}` : token.path!
  if (process.stdout.isTTY === true) {
    yield* printLine(`open ${running.url}/#token=${Redacted.value(token.token)}`)
    yield* printLine(`token: ${source}${token.source === "generated" ? " (new)" : ""}`)
  } else {
    yield* printLine(`token: ${source}`)
  }

  // Runs until SIGINT/SIGTERM interrupts it; then stops gracefully and exits 0.
  yield* Effect.never.pipe(
    Effect.onInterrupt(() =>
      Effect.gen(function*() {
        yield* running.shutdown()
        yield* Scope.close(attempt.scope, Exit.void)
        process.exitCode = 0
      })
    )
  )
})).pipe(
  Command.withDescription("Serve sessions over HTTP (JSON, SSE) and the A2A protocol, for UIs, programs and agents"),
  Command.withExamples([
    { command: "codetether serve", description: "On 127.0.0.1:4096 (or the next free port)" },
    { command: "codetether serve --port 8080 --cors http://localhost:5173", description: "A port, and a web UI's origin" },
    {
      command: "CODETETHER_SERVER_TOKEN=$(openssl rand -hex 32) codetether serve --host 0.0.0.0",
      description: "On every interface (a token of your own is required)"
    }
  ])
)

/**
 * The service `serve` needs besides the agent's (the server token is
 * resolved by the command itself, after its checks): the A2A task store in
 * the data dir.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = Layer.unwrap(Effect.promise(async () => {
  const A2ATaskStore = await import("../../services/A2ATaskStore.ts")
  return A2ATaskStore.layerFileSystem
}))
