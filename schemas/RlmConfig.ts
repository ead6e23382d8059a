/**
 * RLM settings persisted in `metadata.rlm` (`rlm::RlmConfig` in
 * codetether-agent 4.5.7). Every key has a default, applied per key on read.
 *
 * Wire (defaults): `{"mode":"auto","threshold":0.35,"max_iterations":15,"max_subcalls":50,"runtime":"rust","root_model":null,"subcall_model":null}`.
 * `mode` and `runtime` are not validated, as in 4.5.7. `threshold` is an f64
 * (fraction of the context window) written with serde_json's formatting
 * (`1.0`, not `1`).
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { F64 } from "./RustJson.ts"

const Count = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
const withDefault = <S extends Schema.Top>(schema: S, value: S["Encoded"]) =>
  schema.pipe(Schema.withDecodingDefaultKey(Effect.succeed(value)))

/**
 * @since 0.1.0
 * @category schemas
 */
export const RlmConfig = Schema.Struct({
  mode: withDefault(Schema.String, "auto"),
  threshold: withDefault(F64, 0.35),
  maxIterations: withDefault(Count, 15),
  maxSubcalls: withDefault(Count, 50),
  runtime: withDefault(Schema.String, "rust"),
  rootModel: withDefault(Schema.NullOr(Schema.String), null),
  subcallModel: withDefault(Schema.NullOr(Schema.String), null)
}).pipe(Schema.encodeKeys({
  maxIterations: "max_iterations",
  maxSubcalls: "max_subcalls",
  rootModel: "root_model",
  subcallModel: "subcall_model"
}))

/**
 * @since 0.1.0
 * @category models
 */
export type RlmConfig = typeof RlmConfig.Type

/**
 * The 4.5.7 defaults (also what a missing `rlm` key decodes to).
 *
 * @since 0.1.0
 * @category constructors
 */
export const defaults: RlmConfig = {
  mode: "auto",
  threshold: 0.35,
  maxIterations: 15,
  maxSubcalls: 50,
  runtime: "rust",
  rootModel: null,
  subcallModel: null
}
