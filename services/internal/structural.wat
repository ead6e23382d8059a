;; Structural indexer for JSON session files (codetether).
;;
;; Scans a buffer 64 bytes at a time with WASM SIMD and reports the positions
;; of the structural characters `{ } [ ] , :` that lie outside strings and at
;; nesting depth <= 2 (the root object, its values, and the elements of
;; root-level arrays). Deeper structure is only counted and bracket-matched.
;;
;; String detection follows the stage-1 technique of simdjson (Langdale and
;; Lemire, "Parsing Gigabytes of JSON per Second", 2019): a mask of escaped
;; characters from odd-length backslash runs, then a prefix XOR of unescaped
;; quotes gives the in-string mask. State carries across blocks and calls in
;; globals, so a file is fed in chunks whose length is a multiple of 64 (the
;; last chunk is padded with spaces by the caller).
;;
;; Memory layout (set by the caller): input chunk at `in`, output i32 events at
;; `out` (one per reported position, relative to `in`), bracket stack at
;; `stack` (one byte per open container, max 65536).

(module
  (memory (export "memory") 1)

  (global $prevInString (mut i64) (i64.const 0))   ;; all ones when the last block ended inside a string
  (global $nextIsEscaped (mut i64) (i64.const 0))  ;; 1 when the next block's first byte is escaped
  (global $depth (mut i32) (i32.const 0))
  (global $error (mut i32) (i32.const 0))          ;; 0 ok, 1 bracket mismatch, 2 too deep, 3 close below root
  (global $errorAt (mut i32) (i32.const 0))

  (func (export "reset")
    (global.set $prevInString (i64.const 0))
    (global.set $nextIsEscaped (i64.const 0))
    (global.set $depth (i32.const 0))
    (global.set $error (i32.const 0))
    (global.set $errorAt (i32.const 0)))

  (func (export "depth") (result i32) (global.get $depth))
  (func (export "inString") (result i32) (i32.wrap_i64 (i64.and (global.get $prevInString) (i64.const 1))))
  (func (export "error") (result i32) (global.get $error))
  (func (export "errorAt") (result i32) (global.get $errorAt))

  ;; 64-bit mask of bytes equal to `c` in the 64 bytes at `p`.
  (func $eq64 (param $p i32) (param $c v128) (result i64)
    (i64.or
      (i64.or
        (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (v128.load (local.get $p)) (local.get $c))))
        (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (v128.load offset=16 (local.get $p)) (local.get $c)))) (i64.const 16)))
      (i64.or
        (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (v128.load offset=32 (local.get $p)) (local.get $c)))) (i64.const 32))
        (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (v128.load offset=48 (local.get $p)) (local.get $c)))) (i64.const 48)))))

  ;; Structural mask of 16 bytes: { } [ ] , :
  (func $op16 (param $v v128) (result i32)
    (local $lower v128)
    (local.set $lower (v128.or (local.get $v) (i8x16.splat (i32.const 0x20))))
    (i8x16.bitmask
      (v128.or
        (v128.or
          (i8x16.eq (local.get $lower) (i8x16.splat (i32.const 0x7b)))   ;; { and [
          (i8x16.eq (local.get $lower) (i8x16.splat (i32.const 0x7d))))  ;; } and ]
        (v128.or
          (i8x16.eq (local.get $v) (i8x16.splat (i32.const 0x2c)))       ;; ,
          (i8x16.eq (local.get $v) (i8x16.splat (i32.const 0x3a)))))))   ;; :

  (func $op64 (param $p i32) (result i64)
    (i64.or
      (i64.or
        (i64.extend_i32_u (call $op16 (v128.load (local.get $p))))
        (i64.shl (i64.extend_i32_u (call $op16 (v128.load offset=16 (local.get $p)))) (i64.const 16)))
      (i64.or
        (i64.shl (i64.extend_i32_u (call $op16 (v128.load offset=32 (local.get $p)))) (i64.const 32))
        (i64.shl (i64.extend_i32_u (call $op16 (v128.load offset=48 (local.get $p)))) (i64.const 48)))))

  ;; Scans `len` bytes (a multiple of 64) at `in`; writes event positions to
  ;; `out`; returns the number of events, or -1 on a structural error (see
  ;; `error`/`errorAt`, positions relative to `in`).
  (func (export "scan") (param $in i32) (param $len i32) (param $out i32) (param $stack i32) (result i32)
    (local $block i32) (local $p i32) (local $n i32)
    (local $bs i64) (local $quote i64) (local $ops i64)
    (local $potential i64) (local $maybe i64) (local $code i64) (local $escaped i64)
    (local $inString i64) (local $x i64)
    (local $bit i32) (local $pos i32) (local $c i32) (local $depth i32) (local $top i32)
    (local $quoteV v128) (local $bsV v128)
    (local.set $quoteV (i8x16.splat (i32.const 0x22)))
    (local.set $bsV (i8x16.splat (i32.const 0x5c)))
    (local.set $depth (global.get $depth))
    (block $done
      (loop $blocks
        (br_if $done (i32.ge_u (local.get $block) (local.get $len)))
        (local.set $p (i32.add (local.get $in) (local.get $block)))
        (local.set $bs (call $eq64 (local.get $p) (local.get $bsV)))
        (local.set $quote (call $eq64 (local.get $p) (local.get $quoteV)))
        ;; escaped characters (simdjson json_escape_scanner), short-circuited
        ;; when the block has no backslash
        (if (i64.eqz (local.get $bs))
          (then
            (local.set $escaped (global.get $nextIsEscaped))
            (global.set $nextIsEscaped (i64.const 0)))
          (else
            (local.set $potential (i64.and (local.get $bs) (i64.xor (global.get $nextIsEscaped) (i64.const -1))))
            (local.set $maybe (i64.shl (local.get $potential) (i64.const 1)))
            (local.set $code
              (i64.xor
                (i64.sub (i64.or (local.get $maybe) (i64.const 0xAAAAAAAAAAAAAAAA)) (local.get $potential))
                (i64.const 0xAAAAAAAAAAAAAAAA)))
            (local.set $escaped (i64.xor (local.get $code) (i64.or (local.get $bs) (global.get $nextIsEscaped))))
            (global.set $nextIsEscaped (i64.shr_u (i64.and (local.get $code) (local.get $bs)) (i64.const 63)))))
        ;; in-string mask: prefix XOR of unescaped quotes
        (local.set $x (i64.and (local.get $quote) (i64.xor (local.get $escaped) (i64.const -1))))
        (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 1))))
        (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 2))))
        (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 4))))
        (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 8))))
        (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 16))))
        (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 32))))
        (local.set $inString (i64.xor (local.get $x) (global.get $prevInString)))
        (global.set $prevInString (i64.shr_s (local.get $inString) (i64.const 63)))
        ;; structurals outside strings (none when the whole block is inside a string)
        (local.set $x (i64.xor (local.get $inString) (i64.const -1)))
        (local.set $ops (i64.const 0))
        (if (i64.ne (local.get $x) (i64.const 0))
          (then (local.set $ops (i64.and (call $op64 (local.get $p)) (local.get $x)))))
        (block $bitsDone
          (loop $bits
            (br_if $bitsDone (i64.eqz (local.get $ops)))
            (local.set $bit (i32.wrap_i64 (i64.ctz (local.get $ops))))
            (local.set $ops (i64.and (local.get $ops) (i64.sub (local.get $ops) (i64.const 1))))
            (local.set $pos (i32.add (local.get $block) (local.get $bit)))
            (local.set $c (i32.load8_u (i32.add (local.get $in) (local.get $pos))))
            (if (i32.or (i32.eq (local.get $c) (i32.const 0x7b)) (i32.eq (local.get $c) (i32.const 0x5b)))
              (then
                (if (i32.ge_u (local.get $depth) (i32.const 65536))
                  (then
                    (global.set $error (i32.const 2))
                    (global.set $errorAt (local.get $pos))
                    (global.set $depth (local.get $depth))
                    (return (i32.const -1))))
                (i32.store8 (i32.add (local.get $stack) (local.get $depth)) (local.get $c))
                (if (i32.lt_u (local.get $depth) (i32.const 2))
                  (then
                    (i32.store (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))) (local.get $pos))
                    (local.set $n (i32.add (local.get $n) (i32.const 1)))))
                (local.set $depth (i32.add (local.get $depth) (i32.const 1)))
                (br $bits)))
            (if (i32.or (i32.eq (local.get $c) (i32.const 0x7d)) (i32.eq (local.get $c) (i32.const 0x5d)))
              (then
                (if (i32.eqz (local.get $depth))
                  (then
                    (global.set $error (i32.const 3))
                    (global.set $errorAt (local.get $pos))
                    (return (i32.const -1))))
                (local.set $depth (i32.sub (local.get $depth) (i32.const 1)))
                ;; `{`+2 = `}`, `[`+2 = `]`
                (local.set $top (i32.load8_u (i32.add (local.get $stack) (local.get $depth))))
                (if (i32.ne (i32.add (local.get $top) (i32.const 2)) (local.get $c))
                  (then
                    (global.set $error (i32.const 1))
                    (global.set $errorAt (local.get $pos))
                    (global.set $depth (local.get $depth))
                    (return (i32.const -1))))
                (if (i32.lt_u (local.get $depth) (i32.const 2))
                  (then
                    (i32.store (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))) (local.get $pos))
                    (local.set $n (i32.add (local.get $n) (i32.const 1)))))
                (br $bits)))
            ;; `,` or `:`
            (if (i32.le_u (local.get $depth) (i32.const 2))
              (then
                (i32.store (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))) (local.get $pos))
                (local.set $n (i32.add (local.get $n) (i32.const 1)))))
            (br $bits)))
        (local.set $block (i32.add (local.get $block) (i32.const 64)))
        (br $blocks)))
    (global.set $depth (local.get $depth))
    (local.get $n))
)
