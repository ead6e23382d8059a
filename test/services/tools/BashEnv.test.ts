/**
 * The bash tool keeps provider keys and other secrets out of commands: `env`
 * would otherwise put them into the transcript, the session file and the
 * next request.
 */
import { NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { Effect, Layer } from "effect"
import * as CodetetherConfig from "../../../services/CodetetherConfig.ts"
import * as DataDir from "../../../services/DataDir.ts"
import * as ProviderRegistry from "../../../services/ProviderRegistry.ts"
import * as ToolRegistry from "../../../services/ToolRegistry.ts"
import * as Bash from "../../../services/tools/Bash.ts"
import * as TempDir from "../../utils/TempDir.ts"
import { registryLayer, run, tempDir } from "./helpers.ts"

const SECRETS = {
  OPENAI_API_KEY: "sk-openai-SECRET-1",
  GITHUB_TOKEN: "ghp-SECRET-2",
  my_service_secret: "svc-SECRET-3",
  CORP_KEY: "corp-SECRET-4",
  ZHIPUAI_API_KEY: "zai-SECRET-5",
  TOKEN: "bare-SECRET-6",
  HARMLESS_VALUE: "visible-7"
}

/** Sets the variables in this worker's environment for the scope. */
const withEnv = (vars: Readonly<Record<string, string>>) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const before = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]))
      Object.assign(process.env, vars)
      return before
    }),
    (before) =>
      Effect.sync(() => {
        for (const [k, v] of Object.entries(before)) {
          if (v === undefined) delete process.env[k]
          else process.env[k] = v
        }
      })
  )

describe("bash environment", () => {
  it("isSecretName and hiddenVariables", () => {
    for (
      const name of [
        "OPENAI_API_KEY", "github_token", "X_SECRET", "API_KEY", "TOKEN", "Secret",
        "AWS_SECRET_ACCESS_KEY", "DJANGO_SECRET_KEY", "POSTGRES_PASSWORD", "SMTP_PASSWD", "PGPASSWORD",
        "DATABASE_URL", "CODETETHER_DATABASE_URL"
      ]
    ) {
      assert.isTrue(Bash.isSecretName(name), name)
    }
    for (const name of ["PATH", "HOME", "TOKENIZER", "SECRETS_DIR", "MY_KEY", "APIKEY", "PASSWORD_POLICY", "AWS_ACCESS_KEY_ID", "DATABASE_URL_TEMPLATE"]) {
      assert.isFalse(Bash.isSecretName(name), name)
    }
    assert.deepStrictEqual(
      Bash.hiddenVariables(["PATH", "GITHUB_TOKEN", "CORP_KEY", "NPM_TOKEN"], { hidden: ["CORP_KEY"], pass: ["NPM_TOKEN"] }),
      ["GITHUB_TOKEN", "CORP_KEY"]
    )
  })

  it.effect("`env | grep API_KEY` through the tool shows no key (built-in registry)", () =>
    Effect.gen(function*() {
      yield* withEnv(SECRETS)
      const dir = yield* tempDir
      const result = yield* run("bash", { command: "env | grep API_KEY; env" }, dir).pipe(Effect.provide(registryLayer))
      for (const [name, value] of Object.entries(SECRETS)) {
        if (name === "HARMLESS_VALUE" || name === "CORP_KEY") continue
        assert.notInclude(result.output, value, name)
      }
      assert.include(result.output, "HARMLESS_VALUE=visible-7")
      assert.include(result.output, "PATH=")
    }))

  it.effect("the configured registry also hides custom providers' key variables; pass_env lets one through", () =>
    Effect.gen(function*() {
      yield* withEnv(SECRETS)
      const dir = yield* tempDir
      const outside = yield* TempDir.make()
      const userConfig = NodePath.join(outside, "config.toml")
      NodeFs.writeFileSync(userConfig, `[tools.bash]\npass_env = ["GITHUB_TOKEN"]\n`)
      NodeFs.writeFileSync(
        NodePath.join(outside, "providers.json"),
        JSON.stringify({ providers: [{ name: "corp", base_url: "http://127.0.0.1:9/v1", api_key_env: "CORP_KEY" }] })
      )
      const layer = ToolRegistry.layerConfig.pipe(
        Layer.provide(Layer.mergeAll(
          CodetetherConfig.layerWith({ cwd: dir, userConfigPath: userConfig }),
          ProviderRegistry.layerConfigWith({ cwd: dir, userConfigDir: null }).pipe(Layer.provide(DataDir.layerPath(outside)))
        )),
        Layer.provide(NodeServices.layer)
      )
      const result = yield* run("bash", { command: "env" }, dir).pipe(Effect.provide(layer))
      assert.notInclude(result.output, SECRETS.CORP_KEY)
      assert.notInclude(result.output, SECRETS.OPENAI_API_KEY)
      assert.notInclude(result.output, SECRETS.my_service_secret)
      assert.include(result.output, `GITHUB_TOKEN=${SECRETS.GITHUB_TOKEN}`)
    }))

  it.effect("extra variables given to the tool are always passed", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const tools = yield* Effect.provide(ToolRegistry.builtinsWith({ bash: { env: { DEPLOY_TOKEN: "given" } } }), NodeServices.layer)
      const result = yield* ToolRegistry.make(tools).execute({ name: "bash", args: { command: "echo $DEPLOY_TOKEN" } }, {
        directory: dir
      })
      assert.strictEqual(result.output, "given")
    }))
})
