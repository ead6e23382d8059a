/**
 * The `effect/Effect` module as code outside test/compat sees it: the compat
 * run checks that the repository's modules get test/compat's copy of effect.
 */
export * as Effect from "effect/Effect"
