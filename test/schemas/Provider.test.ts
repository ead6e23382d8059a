import { assert, describe, it } from "@effect/vitest"
import { Result, Schema } from "effect"
import * as Provider from "../../schemas/Provider.ts"

const ok = (r: Result.Result<Provider.Selection, Provider.SelectionError>) => {
  if (Result.isFailure(r)) assert.fail(`expected success, got ${r.failure.message}`)
  return r.success
}
const err = (r: Result.Result<Provider.Selection, Provider.SelectionError>) => {
  if (Result.isSuccess(r)) assert.fail(`expected failure, got ${JSON.stringify(r.success)}`)
  return r.failure
}

describe("parseModelString", () => {
  it("splits at the first slash", () => {
    assert.deepStrictEqual(Provider.parseModelString("openrouter/openai/gpt-5-codex"), {
      provider: "openrouter",
      model: "openai/gpt-5-codex"
    })
    assert.deepStrictEqual(Provider.parseModelString("openai/"), { provider: "openai", model: "" })
    assert.deepStrictEqual(Provider.parseModelString("/x"), { provider: "", model: "x" })
    assert.deepStrictEqual(Provider.parseModelString("gpt-4o"), { provider: undefined, model: "gpt-4o" })
    assert.deepStrictEqual(Provider.parseModelString(""), { provider: undefined, model: "" })
  })
})

describe("select (BEHAVIOUR §6.2 steps 3-5, 8)", () => {
  it("fails with 4.5.7's text when nothing is registered", () => {
    const e = err(Provider.select("gpt-4o", []))
    assert.strictEqual(e.reason, "NoProviders")
    assert.isTrue(e.message.startsWith("No providers available. Configure provider credentials"))
    assert.isTrue(e.message.endsWith("or in providers.json in the data directory."))
    assert.isFalse(e.message.includes("codetether auth")) // no hints to commands codetether does not have
    assert.strictEqual(err(Provider.select(null, [])).reason, "NoProviders")
  })

  it("null selector: the preferred provider and its default model", () => {
    assert.deepStrictEqual(ok(Provider.select(null, ["google", "anthropic", "openai"])), {
      provider: "openai",
      model: "gpt-4o"
    })
    assert.deepStrictEqual(ok(Provider.select(null, ["google", "anthropic"])), {
      provider: "anthropic",
      model: "claude-sonnet-4-20250514"
    })
  })

  it("follows the preference order, then registration order", () => {
    const order = Provider.PREFERENCE_ORDER
    for (let i = 0; i < order.length; i++) {
      const registered = [...order.slice(i)].reverse()
      assert.strictEqual(ok(Provider.select(null, ["zz-custom", ...registered])).provider, order[i])
    }
    assert.strictEqual(ok(Provider.select(null, ["beta", "alpha"])).provider, "beta")
    assert.strictEqual(ok(Provider.select("some-model", ["beta", "alpha"])).provider, "beta")
  })

  it("provider/model selects both", () => {
    assert.deepStrictEqual(ok(Provider.select("openrouter/openai/gpt-5", ["openai", "openrouter"])), {
      provider: "openrouter",
      model: "openai/gpt-5"
    })
  })

  it("provider/ with an empty model uses the provider default", () => {
    assert.deepStrictEqual(ok(Provider.select("moonshotai/", ["openai", "moonshotai"])), {
      provider: "moonshotai",
      model: "kimi-k2.5"
    })
  })

  it("aliases zhipuai and z-ai to zai", () => {
    assert.deepStrictEqual(ok(Provider.select("zhipuai/glm-4.6", ["openai", "zai"])), {
      provider: "zai",
      model: "glm-4.6"
    })
    assert.deepStrictEqual(ok(Provider.select("z-ai/", ["openai", "zai"])), { provider: "zai", model: "glm-5" })
    const e = err(Provider.select("zhipuai/glm-5", ["openai"]))
    assert.strictEqual(e.message, "Provider 'zai' selected explicitly but is unavailable. Available providers: openai")
  })

  it("a bare registered provider name selects it with its default model", () => {
    assert.deepStrictEqual(ok(Provider.select("anthropic", ["openai", "anthropic"])), {
      provider: "anthropic",
      model: "claude-sonnet-4-20250514"
    })
  })

  it("a bare unregistered name is a model id for the preferred provider", () => {
    assert.deepStrictEqual(ok(Provider.select("anthropic", ["openai"])), { provider: "openai", model: "anthropic" })
    assert.deepStrictEqual(ok(Provider.select("claude-opus-4", ["openai", "anthropic"])), {
      provider: "openai",
      model: "claude-opus-4"
    })
    // aliases apply to the provider part only
    assert.deepStrictEqual(ok(Provider.select("zhipuai", ["zai"])), { provider: "zai", model: "zhipuai" })
  })

  it("an explicit unregistered provider fails with 4.5.7's text", () => {
    const e = err(Provider.select("google/gemini-2.5-pro", ["openai", "anthropic"]))
    assert.strictEqual(e.reason, "Unavailable")
    assert.strictEqual(e.provider, "google")
    assert.strictEqual(
      e.message,
      "Provider 'google' selected explicitly but is unavailable. Available providers: openai, anthropic"
    )
    assert.strictEqual(
      err(Provider.select("/x", ["openai"])).message,
      "Provider '' selected explicitly but is unavailable. Available providers: openai"
    )
  })

  it("an empty selector is the default choice", () => {
    assert.deepStrictEqual(ok(Provider.select("", ["anthropic"])), {
      provider: "anthropic",
      model: "claude-sonnet-4-20250514"
    })
  })

  it("uses a custom default model function", () => {
    assert.deepStrictEqual(ok(Provider.select("local", ["local"], () => "qwen3")), { provider: "local", model: "qwen3" })
  })
})

describe("defaultModel (step 8)", () => {
  it("has 4.5.7's table", () => {
    const table: Record<string, string> = {
      moonshotai: "kimi-k2.5",
      anthropic: "claude-sonnet-4-20250514",
      minimax: "MiniMax-M2.5",
      openai: "gpt-4o",
      google: "gemini-2.5-pro",
      zhipuai: "glm-5",
      zai: "glm-5",
      "zai-api": "glm-5",
      openrouter: "z-ai/glm-5",
      novita: "Qwen/Qwen3.5-35B-A3B",
      "github-copilot": "gpt-5-mini",
      "github-copilot-enterprise": "gpt-5-mini",
      "something-else": "gpt-4o"
    }
    for (const [provider, model] of Object.entries(table)) assert.strictEqual(Provider.defaultModel(provider), model)
  })

  it("local_cuda reads its variables in order", () => {
    assert.strictEqual(Provider.defaultModel("local_cuda"), "qwen3.5-9b")
    assert.strictEqual(Provider.defaultModel("local_cuda", { CODETETHER_LOCAL_CUDA_MODEL: "b" }), "b")
    assert.strictEqual(Provider.defaultModel("local_cuda", { LOCAL_CUDA_MODEL: "a", CODETETHER_LOCAL_CUDA_MODEL: "b" }), "a")
    assert.strictEqual(Provider.defaultModel("local_cuda", { LOCAL_CUDA_MODEL: "" }), "qwen3.5-9b")
  })
})

describe("temperatureFor (step 11)", () => {
  it("omits it for Opus 4.7 markers", () => {
    for (const m of ["claude-opus-4-7", "Claude-Opus-4.7", "x-4.7-opus", "4-7-opus", "opus_4_7", "OPUS_47"]) {
      assert.isUndefined(Provider.temperatureFor(m), m)
    }
  })
  it("is 1.0 for kimi-k2, glm- and minimax", () => {
    for (const m of ["kimi-k2.5", "z-ai/GLM-5", "MiniMax-M2.5"]) assert.strictEqual(Provider.temperatureFor(m), 1.0)
  })
  it("is 0.7 otherwise", () => {
    for (const m of ["gpt-4o", "claude-sonnet-4-20250514", "opus-4-6", "glm5"]) {
      assert.strictEqual(Provider.temperatureFor(m), 0.7)
    }
  })
})

describe("resolveModel (§13)", () => {
  it("resolves provider/model with its aliases", () => {
    assert.deepStrictEqual(ok(Provider.resolveModel("zhipuai/glm-5", ["zai"])), { provider: "zai", model: "glm-5" })
    assert.deepStrictEqual(ok(Provider.resolveModel("local-cuda/q", ["local_cuda"])), {
      provider: "local_cuda",
      model: "q"
    })
    assert.deepStrictEqual(ok(Provider.resolveModel("localcuda/q", ["local_cuda"])), {
      provider: "local_cuda",
      model: "q"
    })
  })
  it("does not alias z-ai (as 4.5.7)", () => {
    const e = err(Provider.resolveModel("z-ai/glm-5", ["zai", "openai"]))
    assert.strictEqual(e.message, `Provider 'z-ai' not found. Available: ["zai", "openai"]`)
  })
  it("uses the first registered provider for a bare model", () => {
    assert.deepStrictEqual(ok(Provider.resolveModel("gpt-4o-mini", ["anthropic", "openai"])), {
      provider: "anthropic",
      model: "gpt-4o-mini"
    })
    const e = err(Provider.resolveModel("gpt-4o-mini", []))
    assert.strictEqual(e.reason, "NoProviders")
    assert.strictEqual(e.message, "No providers available in registry")
  })
})

describe("StreamEvent", () => {
  it("constructors build values of the schema", () => {
    const events = [
      Provider.textDelta("a"),
      Provider.thinkingDelta("b"),
      Provider.toolCallStart("c1", "bash"),
      Provider.toolCallDelta("c1", "{}"),
      Provider.toolCallEnd("c1"),
      Provider.usage({ promptTokens: 1, completionTokens: 2, totalTokens: 3, cacheReadTokens: null, cacheWriteTokens: 0 }),
      Provider.finish("tool_calls")
    ]
    for (const event of events) assert.isTrue(Schema.is(Provider.StreamEvent)(event), event._tag)
    assert.isFalse(Schema.is(Provider.StreamEvent)({ _tag: "Finish", reason: "done" }))
    const codec = Schema.Array(Provider.StreamEvent)
    const wire = Schema.encodeSync(codec)(events)
    assert.deepStrictEqual((wire[5] as any).usage.prompt_tokens, 1)
    assert.deepStrictEqual(Schema.decodeUnknownSync(codec)(wire), events)
  })
})
