;; The memory-bandwidth probe: the minimal pass with Adadelta's memory traffic. Per element it
;; reads param, grad, square_avg and acc_delta (16 bytes) and writes param, square_avg and
;; acc_delta (12 bytes): 28 bytes per param, like the real step, with one f32x4.add per stream
;; instead of the arithmetic. Two f32x4 vectors per iteration, as V8 runs the kernel's
;; one-vector loop once its optimizing compiler has unrolled it.
(module
  (import "env" "memory" (memory 1 65536 shared))
  ;; Pointers are byte addresses; `bytes` is a multiple of 32.
  (func (export "touch") (param $p i32) (param $g i32) (param $s i32) (param $a i32) (param $bytes i32)
    (local $i i32) (local $g0 v128) (local $g1 v128)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $bytes)))
        (local.set $g0 (v128.load (i32.add (local.get $g) (local.get $i))))
        (local.set $g1 (v128.load offset=16 (i32.add (local.get $g) (local.get $i))))
        (v128.store (i32.add (local.get $s) (local.get $i))
          (f32x4.add (v128.load (i32.add (local.get $s) (local.get $i))) (local.get $g0)))
        (v128.store offset=16 (i32.add (local.get $s) (local.get $i))
          (f32x4.add (v128.load offset=16 (i32.add (local.get $s) (local.get $i))) (local.get $g1)))
        (v128.store (i32.add (local.get $a) (local.get $i))
          (f32x4.add (v128.load (i32.add (local.get $a) (local.get $i))) (local.get $g0)))
        (v128.store offset=16 (i32.add (local.get $a) (local.get $i))
          (f32x4.add (v128.load offset=16 (i32.add (local.get $a) (local.get $i))) (local.get $g1)))
        (v128.store (i32.add (local.get $p) (local.get $i))
          (f32x4.add (v128.load (i32.add (local.get $p) (local.get $i))) (local.get $g0)))
        (v128.store offset=16 (i32.add (local.get $p) (local.get $i))
          (f32x4.add (v128.load offset=16 (i32.add (local.get $p) (local.get $i))) (local.get $g1)))
        (local.set $i (i32.add (local.get $i) (i32.const 32)))
        (br $next)))))
