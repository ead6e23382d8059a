import * as OtelTracer from "@effect/opentelemetry/OtelTracer"
import { NodeRuntime, NodeServices } from "@effect/platform-node"
import { resourceFromAttributes } from "@opentelemetry/resources"
import { BasicTracerProvider, ConsoleSpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Config, Console, Effect, Layer } from "effect"
import { Codetether, CodetetherConfig, ProviderRegistry, SessionLoop } from "codetether"

// The spans of a prompt, exported with @effect/opentelemetry to the console:
//   invoke_agent <agent>                  the prompt (gen_ai.conversation.id = the session id)
//     SessionLoop.step                    one model round trip and its tool calls
//       chat <model>                      the model call: gen_ai.request.model, gen_ai.usage.*_tokens,
//                                         gen_ai.response.finish_reasons (OpenTelemetry GenAI conventions)
//       execute_tool <tool>               one tool call: gen_ai.tool.name, gen_ai.tool.call.id
// A real app puts an OTLP exporter (Jaeger, Honeycomb, Grafana...) where the console exporter is.
const TracerProvider = Layer.effect(
  OtelTracer.OtelTracerProvider,
  Effect.acquireRelease(
    Effect.sync(() =>
      new BasicTracerProvider({
        resource: resourceFromAttributes({ "service.name": "codetether-embed" }),
        spanProcessors: [new SimpleSpanProcessor(new ConsoleSpanExporter())]
      })
    ),
    (provider) => Effect.promise(() => provider.shutdown())
  )
)
const Telemetry = OtelTracer.layer.pipe(Layer.provide(TracerProvider))

const program = Effect.gen(function*() {
  const config = yield* CodetetherConfig.CodetetherConfig
  const loop = yield* SessionLoop.SessionLoop
  const session = yield* config.newSession(process.cwd())
  const { result } = yield* loop.prompt(session, "How many entries are in this directory?")
  yield* Console.error(`answer: ${result.text}`)
})

const main = Effect.gen(function*() {
  const baseUrl = yield* Config.String("MODEL_BASE_URL")
  const dataDir = yield* Config.String("DATA_DIR")
  yield* program.pipe(
    Effect.provide(Codetether.layerValue({
      dataDir,
      providers: [ProviderRegistry.openAiCompatible({ name: "scripted", baseUrl, defaultModel: "scripted-model" })],
      config: { maxSteps: 10 }
    }))
  )
})

NodeRuntime.runMain(main.pipe(Effect.provide(Telemetry), Effect.provide(NodeServices.layer)))
