import { assert, describe, it } from "@effect/vitest"
import * as OutputBuffer from "../../../../services/tools/internal/OutputBuffer.ts"

const bytes = (text: string) => new TextEncoder().encode(text)

/** What the buffer must keep of `all`: everything, or the first `head` and last `tail` bytes. */
const reference = (all: Uint8Array, head: number, tail: number) =>
  all.length <= head + tail
    ? { kept: all, omitted: 0 }
    : { kept: new Uint8Array([...all.subarray(0, head), ...all.subarray(all.length - tail)]), omitted: all.length - head - tail }

describe("OutputBuffer", () => {
  it("keeps everything that fits", () => {
    const buffer = OutputBuffer.make({ headBytes: 4, tailBytes: 4 })
    buffer.push(bytes("abc"))
    buffer.push(bytes("defgh"))
    assert.strictEqual(buffer.render(), "abcdefgh")
    assert.strictEqual(buffer.omittedBytes(), 0)
    assert.strictEqual(buffer.totalBytes(), 8)
  })

  it("keeps the head and the tail of long output with a note", () => {
    const buffer = OutputBuffer.make({ headBytes: 4, tailBytes: 3 })
    for (const chunk of ["ab", "cdef", "ghij", "k", "lmnop"]) buffer.push(bytes(chunk))
    assert.strictEqual(buffer.omittedBytes(), 9)
    assert.strictEqual(
      buffer.render(),
      "abcd\n[... 9 bytes omitted (16 bytes in total); showing the first 4 and last 3 bytes ...]\nnop"
    )
  })

  it("never splits a UTF-8 character at a cut", () => {
    const buffer = OutputBuffer.make({ headBytes: 4, tailBytes: 3 })
    // "aé" is 3 bytes: the first 4 bytes end inside the second "é"; the last 3 start inside "ü".
    buffer.push(bytes("aéé----üzz"))
    const rendered = buffer.render()
    assert.notInclude(rendered, "\uFFFD")
    assert.match(rendered, /^aé\n\[\.\.\. /)
    assert.match(rendered, /\nzz$/)
  })

  it("matches the reference for any chunking (deterministic pseudo-random cases)", () => {
    let seed = 7
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648
      return seed / 2147483648
    }
    for (let round = 0; round < 300; round++) {
      const head = Math.floor(random() * 20)
      const tail = Math.floor(random() * 20)
      const all = new Uint8Array(Math.floor(random() * 120)).map(() => 97 + Math.floor(random() * 26))
      const buffer = OutputBuffer.make({ headBytes: head, tailBytes: tail })
      for (let at = 0; at < all.length;) {
        const n = Math.min(all.length - at, Math.floor(random() * 30))
        buffer.push(all.subarray(at, at + n))
        at += n
      }
      const expected = reference(all, head, tail)
      assert.strictEqual(buffer.omittedBytes(), expected.omitted)
      assert.strictEqual(buffer.totalBytes(), all.length)
      const text = new TextDecoder().decode(expected.kept)
      const rendered = buffer.render()
      if (expected.omitted === 0) {
        assert.strictEqual(rendered, text)
      } else {
        const note = rendered.match(/\n?\[\.\.\. \d+ bytes omitted[^\n]*\]\n/)
        assert.isNotNull(note)
        assert.strictEqual(rendered.replace(note![0], ""), text)
      }
    }
  })
})
