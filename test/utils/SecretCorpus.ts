/**
 * A corpus of realistic, fake secrets for every kind the redactor knows,
 * placed in the contexts they appear in (prose, shell, .env files, HTTP
 * headers, JSON-escaped tool arguments, URLs), and near-misses that must
 * never be redacted.
 *
 * The secrets are generated at run time from a seeded PRNG, with each
 * provider's real prefix, length and alphabet: the source holds no literal
 * key (so no secret scanner flags this repository) and every run sees the
 * same values.
 */
import type { Kind } from "../../schemas/Redaction.ts"

/** A deterministic PRNG (mulberry32). */
const prng = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
const LOWER = "abcdefghijklmnopqrstuvwxyz"
const DIGITS = "0123456789"
const ALNUM = UPPER + LOWER + DIGITS
const URLSAFE = `${ALNUM}_-`
const BASE64 = `${ALNUM}+/`
const HEX = "0123456789abcdef"

const random = prng(0x5eed)
/** `length` characters of `alphabet`, with at least one letter and one digit when the alphabet has both. */
export const chars = (length: number, alphabet: string): string => {
  for (;;) {
    let out = ""
    for (let i = 0; i < length; i++) out += alphabet[Math.floor(random() * alphabet.length)]
    const needsMix = /[A-Za-z]/.test(alphabet) && /[0-9]/.test(alphabet)
    if (!needsMix || (/[A-Za-z]/.test(out) && /[0-9]/.test(out))) return out
  }
}

const b64url = (text: string) => Buffer.from(text).toString("base64url")

/** A private key PEM block with a 64-column base64 body of `lines` lines. */
const pem = (label: string, lines: number, eol = "\n") =>
  [
    `-----BEGIN ${label}-----`,
    ...Array.from({ length: lines }, (_, i) => chars(i === lines - 1 ? 24 : 64, BASE64) + (i === lines - 1 ? "==" : "")),
    `-----END ${label}-----`
  ].join(eol)

/** One fake secret of each shape, by kind. */
export const secrets: ReadonlyArray<{ readonly kind: Kind; readonly name: string; readonly value: string }> = [
  { kind: "openai", name: "project key", value: `sk-proj-${chars(74, URLSAFE)}T3BlbkFJ${chars(74, URLSAFE)}` },
  { kind: "openai", name: "service account key", value: `sk-svcacct-${chars(74, URLSAFE)}T3BlbkFJ${chars(74, URLSAFE)}` },
  { kind: "openai", name: "admin key", value: `sk-admin-${chars(74, URLSAFE)}T3BlbkFJ${chars(74, URLSAFE)}` },
  { kind: "openai", name: "legacy user key", value: `sk-${chars(20, ALNUM)}T3BlbkFJ${chars(20, ALNUM)}` },
  { kind: "openai", name: "compatible key (32 hex)", value: `sk-${chars(32, HEX)}` },
  { kind: "anthropic", name: "API key", value: `sk-ant-api03-${chars(93, URLSAFE)}AA` },
  { kind: "anthropic", name: "admin key", value: `sk-ant-admin01-${chars(93, URLSAFE)}AA` },
  { kind: "aws", name: "access key id", value: `AKIA${chars(16, UPPER + DIGITS)}` },
  { kind: "aws", name: "temporary access key id", value: `ASIA${chars(16, UPPER + DIGITS)}` },
  { kind: "github", name: "personal access token", value: `ghp_${chars(36, ALNUM)}` },
  { kind: "github", name: "OAuth token", value: `gho_${chars(36, ALNUM)}` },
  { kind: "github", name: "app installation token", value: `ghs_${chars(36, ALNUM)}` },
  { kind: "github", name: "fine-grained token", value: `github_pat_${chars(22, ALNUM)}_${chars(59, ALNUM)}` },
  {
    kind: "slack",
    name: "bot token",
    value: `xoxb-${chars(12, DIGITS)}-${chars(13, DIGITS)}-${chars(24, ALNUM)}`
  },
  {
    kind: "slack",
    name: "user token",
    value: `xoxp-${chars(12, DIGITS)}-${chars(12, DIGITS)}-${chars(13, DIGITS)}-${chars(32, HEX)}`
  },
  { kind: "slack", name: "app token", value: `xapp-1-A${chars(10, UPPER + DIGITS)}-${chars(13, DIGITS)}-${chars(64, HEX)}` },
  {
    kind: "slack",
    name: "webhook URL",
    value: `https://hooks.slack.com/services/T${chars(8, UPPER + DIGITS)}/B${chars(10, UPPER + DIGITS)}/${chars(24, ALNUM)}`
  },
  { kind: "google", name: "API key", value: `AIza${chars(35, URLSAFE)}` },
  { kind: "private_key", name: "RSA private key", value: pem("RSA PRIVATE KEY", 6) },
  { kind: "private_key", name: "PKCS#8 private key", value: pem("PRIVATE KEY", 4) },
  { kind: "private_key", name: "OpenSSH private key", value: pem("OPENSSH PRIVATE KEY", 5) },
  { kind: "private_key", name: "EC private key (CRLF)", value: pem("EC PRIVATE KEY", 3, "\r\n") },
  {
    kind: "jwt",
    name: "HS256 token",
    value: `${b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }))}.${
      b64url(JSON.stringify({ sub: "1234567890", name: "Dev", iat: 1795317139 }))
    }.${chars(43, URLSAFE)}`
  },
  {
    kind: "jwt",
    name: "RS256 token",
    value: `${b64url(JSON.stringify({ alg: "RS256", kid: "k1" }))}.${
      b64url(JSON.stringify({ iss: "https://auth.example.com", aud: "api", exp: 1795320000 }))
    }.${chars(342, URLSAFE)}`
  }
]

/**
 * Where secrets appear; `{}` is replaced by the secret. `json` contexts are
 * JSON text (tool-call arguments): the secret is JSON-escaped first.
 */
export const contexts: ReadonlyArray<{ readonly name: string; readonly template: string; readonly json?: boolean }> = [
  { name: "alone", template: "{}" },
  { name: "prose", template: "The key is {} (do not share it)." },
  { name: "shell export", template: "export SECRET_VALUE={}\nnpm test" },
  { name: ".env file", template: "# local settings\nSERVICE_TOKEN=\"{}\"\nDEBUG=1\n" },
  { name: "HTTP header", template: "curl -H 'Authorization: Bearer {}' https://api.example.com/v1/me" },
  { name: "YAML", template: "credentials:\n  token: '{}'\n  region: eu-west-1" },
  { name: "tool-call arguments (JSON)", template: "{\"command\":\"echo start\\n{}\\necho done\"}", json: true },
  { name: "tool-call arguments, first value (JSON)", template: "{\"content\":\"{}\",\"path\":\".env\"}", json: true },
  { name: "two in a row", template: "first={} second={}" }
]

/** Places `secret` in `template` (JSON-escaped for JSON contexts). */
export const place = (template: string, secret: string, json = false): string =>
  template.replaceAll("{}", json ? JSON.stringify(secret).slice(1, -1) : secret)

/** A PNG of `bytes` random bytes (after a real PNG signature and IHDR), base64. */
const pngBase64 = (bytes: number) => {
  const header = Buffer.from("89504e470d0a1a0a0000000d4948445200000040000000400806000000aa6971de", "hex")
  const body = Buffer.alloc(bytes)
  for (let i = 0; i < bytes; i++) body[i] = Math.floor(random() * 256)
  return Buffer.concat([header, body]).toString("base64")
}

/** Texts that look a little like secrets and must be returned unchanged. */
export const nearMisses: ReadonlyArray<{ readonly name: string; readonly text: string }> = [
  { name: "git SHA", text: "commit 4f1c2e9a7b3d5c8e0f6a1b2c3d4e5f60718293a4\nAuthor: Dev <dev@example.com>" },
  { name: "short git SHA in a log line", text: "a93bcf7 Bench: a save under a lease" },
  { name: "UUID", text: "session 30210cd6-1912-46b7-8b72-34bf998a507a saved" },
  { name: "UUID v7", text: "01a2013b-c1ee-7120-b0ee-fab476a007fd" },
  { name: "base64 image data URI", text: `data:image/png;base64,${pngBase64(96 * 1024)}` },
  { name: "base64 image in JSON", text: `{"type":"image","source":{"type":"base64","media_type":"image/png","data":"${pngBase64(24 * 1024)}"}}` },
  { name: "task ids", text: "Fixed task-42 and task-notification; see task-1234567890-abc." },
  { name: "scikit-learn and sk- words", text: "pip install scikit-learn # sk-learn, sk-lego, sk-the-very-long-package-name-here" },
  { name: "a sk- identifier without digits", text: "const sk-abcdefghijklmnopqrstuvwxyz = 1" },
  { name: "documentation of key formats", text: "OpenAI keys start with sk-proj-, Anthropic keys with sk-ant-api03-, GitHub ones with ghp_." },
  { name: "AKIA in a word", text: "AKIAEXAMPLE is too short, and so is ASIA-Pacific." },
  { name: "an AWS account id and ARN", text: "arn:aws:iam::123456789012:role/deploy" },
  { name: "a public key", text: "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----" },
  { name: "a certificate", text: "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----" },
  { name: "an SSH public key", text: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGx0cGVwb2ludGxlc3NrZXlzZm9ydGVzdHM dev@laptop" },
  { name: "a JWT header alone", text: "the header eyJhbGciOiJIUzI1NiJ9 decodes to {\"alg\":\"HS256\"}" },
  { name: "a sha256 digest", text: "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08" },
  { name: "an npm integrity hash", text: "\"integrity\": \"sha512-3mB2dpRCkBdBzNfh4kZ8ff2a9dJ3P0FxvE6r3jPOnK2m8ASdWQ3ZtK8kMlJ7pBq4+S6yQeCt3T0MjNnm1dX5aQ==\"" },
  { name: "a Slack channel id and user mention", text: "posted in C0123456789 by <@U0ABCDEF12>" },
  { name: "xox without a token", text: "xoxo, the team" },
  { name: "a Google Maps URL without key", text: "https://maps.googleapis.com/maps/api/geocode/json?address=Paris" },
  { name: "a ghp_ mention", text: "a token like ghp_xxx goes in GH_TOKEN" },
  { name: "a long hex string", text: "nonce=8c3f1e2d4b5a69788f7e6d5c4b3a29180f1e2d3c4b5a6978" },
  { name: "a short env-like value", text: "MODEL=gpt-4o DEBUG=true" },
  { name: "base64 without padding in prose", text: "aGVsbG8gd29ybGQgdGhpcyBpcyBqdXN0IGJhc2U2NCB0ZXh0IGZvciBhIHRlc3Q" }
]
