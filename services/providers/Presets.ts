/**
 * The OpenAI-compatible provider presets: each provider's registry name, the
 * environment variables its API key is read from (first set one wins), the
 * variable that overrides its base URL, its official OpenAI-compatible base
 * URL and its default model.
 *
 * The presets of codetether-agent 4.5.7 (`openrouter`, `zai`, `moonshotai`,
 * `novita`, `minimax`, `google`) keep 4.5.7's default models (BEHAVIOUR §6.2
 * step 8); `deepseek`, `xai`, `groq` and `mistral` are codetether additions.
 * `github-copilot` and `openai-codex` need OAuth device/browser flows and are
 * not offered.
 *
 * `ollama` (a codetether addition) is a local server: no key; registered
 * when `OLLAMA_BASE_URL` is set, else available on demand when a selector
 * names it (`ollama/qwen2.5-coder`, at `http://127.0.0.1:11434/v1`); never
 * chosen for a bare model name while another provider is registered; its
 * models are driven through `<tool_call>` markup (no native tool calling).
 *
 * @since 0.1.0
 */
import { defaultModel } from "../../schemas/Provider.ts"
import type { WireOptions } from "./OpenAi.ts"

/**
 * One OpenAI-compatible preset.
 *
 * @since 0.1.0
 * @category models
 */
export interface Preset {
  /** Registry name. */
  readonly name: string
  /** Variables holding the API key, in order of precedence. */
  readonly keyVariables: ReadonlyArray<string>
  /** Variable overriding {@link Preset.baseUrl}. */
  readonly baseUrlVariable: string
  /** The provider's OpenAI-compatible API base URL. */
  readonly baseUrl: string
  /** Model used when none is selected. */
  readonly defaultModel: string
  /** Wire options that differ from a plain compatible server. */
  readonly wire?: Partial<WireOptions>
  /**
   * A keyless local server: registered when {@link Preset.baseUrlVariable}
   * is set, else on demand when a selector names it; a last resort for
   * selectors that do not name it.
   */
  readonly local?: boolean
  /** `false`: tools through `<tool_call>` markup (see `Common.Provider`). */
  readonly nativeTools?: boolean
}

/**
 * The presets, in registration order.
 *
 * @since 0.1.0
 * @category constants
 */
export const presets: ReadonlyArray<Preset> = [
  {
    name: "openrouter",
    keyVariables: ["OPENROUTER_API_KEY"],
    baseUrlVariable: "OPENROUTER_BASE_URL",
    baseUrl: "https://openrouter.ai/api/v1",
    defaultModel: defaultModel("openrouter")
  },
  {
    name: "zai",
    keyVariables: ["ZAI_API_KEY", "ZHIPUAI_API_KEY"],
    baseUrlVariable: "ZAI_BASE_URL",
    baseUrl: "https://api.z.ai/api/paas/v4",
    defaultModel: defaultModel("zai"),
    wire: { reasoningContent: true }
  },
  {
    name: "moonshotai",
    keyVariables: ["MOONSHOT_API_KEY", "MOONSHOTAI_API_KEY"],
    baseUrlVariable: "MOONSHOT_BASE_URL",
    baseUrl: "https://api.moonshot.ai/v1",
    defaultModel: defaultModel("moonshotai"),
    wire: { reasoningContent: true }
  },
  {
    name: "novita",
    keyVariables: ["NOVITA_API_KEY"],
    baseUrlVariable: "NOVITA_BASE_URL",
    baseUrl: "https://api.novita.ai/openai",
    defaultModel: defaultModel("novita")
  },
  {
    name: "minimax",
    keyVariables: ["MINIMAX_API_KEY"],
    baseUrlVariable: "MINIMAX_BASE_URL",
    baseUrl: "https://api.minimax.io/v1",
    defaultModel: defaultModel("minimax")
  },
  {
    name: "google",
    keyVariables: ["GEMINI_API_KEY", "GOOGLE_API_KEY"],
    baseUrlVariable: "GEMINI_BASE_URL",
    baseUrl: "https://generativelanguage.googleapis.com/v1beta/openai",
    defaultModel: defaultModel("google")
  },
  {
    name: "deepseek",
    keyVariables: ["DEEPSEEK_API_KEY"],
    baseUrlVariable: "DEEPSEEK_BASE_URL",
    baseUrl: "https://api.deepseek.com/v1",
    defaultModel: "deepseek-chat"
  },
  {
    name: "xai",
    keyVariables: ["XAI_API_KEY"],
    baseUrlVariable: "XAI_BASE_URL",
    baseUrl: "https://api.x.ai/v1",
    defaultModel: "grok-4"
  },
  {
    name: "groq",
    keyVariables: ["GROQ_API_KEY"],
    baseUrlVariable: "GROQ_BASE_URL",
    baseUrl: "https://api.groq.com/openai/v1",
    defaultModel: "llama-3.3-70b-versatile"
  },
  {
    name: "mistral",
    keyVariables: ["MISTRAL_API_KEY"],
    baseUrlVariable: "MISTRAL_BASE_URL",
    baseUrl: "https://api.mistral.ai/v1",
    defaultModel: "mistral-large-latest"
  },
  {
    name: "ollama",
    keyVariables: [],
    baseUrlVariable: "OLLAMA_BASE_URL",
    baseUrl: "http://127.0.0.1:11434/v1",
    defaultModel: "llama3.2",
    local: true,
    nativeTools: false
  }
]
