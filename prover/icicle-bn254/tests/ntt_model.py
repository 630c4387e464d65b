#!/usr/bin/env python3
"""A model of cuda/bn254.cu's NTT, kernel for kernel, over a small field.

No GPU runs here, so the index arithmetic of the CUDA transform (bit reversal,
butterfly stages over twiddles of the initialised root, the inverse read
backwards then scaled by 1/n, the coset scalings) is checked against the
definition of the transform on every size up to the root's order. The field is
Z_p with p = 257 (2^8 divides p - 1); the kernels only use field operations, so
the indexing is what this checks. Run: python3 prover/icicle-bn254/tests/ntt_model.py
"""
import random

P = 257
GENERATOR = 3


def powers(base, count):
    return [pow(base, i, P) for i in range(count)]


def bit_reverse_in_place(a, lg_n):
    """Kernel `bit_reverse_in_place`: thread i swaps a[i] and a[rev(i)] when i < rev(i)."""
    if lg_n == 0:
        return
    for i in range(1 << lg_n):
        r = int(format(i, f"0{lg_n}b")[::-1], 2)
        if i < r:
            a[i], a[r] = a[r], a[i]


def reverse_tail_in_place(a, n):
    """Kernel `reverse_tail_in_place` (launched for n >= 4 only): thread i < n/2
    swaps a[i] and a[n - i] for 0 < i."""
    if n < 4:
        return
    for i in range(n // 2):
        if i == 0 or 2 * i >= n:
            continue
        a[i], a[n - i] = a[n - i], a[i]


def ntt_cuda(values, lg_n, lg_order, root, inverse, coset):
    """bn254NTTCuda, in place in one buffer: scale_by_powers (forward coset),
    bit_reverse_in_place, butterflies per stage, then reverse_tail_in_place and
    scale_by_powers(1/coset, 1/n) (inverse)."""
    n = 1 << lg_n
    twiddles = powers(root, 1 << (lg_order - 1))  # bn254InitializeDomain
    a = list(values)
    if not inverse and coset != 1:
        a = [a[i] * pow(coset, i, P) % P for i in range(n)]
    bit_reverse_in_place(a, lg_n)
    for lg_half in range(lg_n):  # kernel `butterflies`, thread j
        half = 1 << lg_half
        for j in range(n // 2):
            pos = j & (half - 1)
            i0 = ((j >> lg_half) << (lg_half + 1)) + pos
            i1 = i0 + half
            w = twiddles[pos << (lg_order - lg_half - 1)]
            u, v = a[i0], a[i1] * w % P
            a[i0], a[i1] = (u + v) % P, (u - v) % P
    if not inverse:
        return a
    reverse_tail_in_place(a, n)
    n_inv, coset_inv = pow(n, P - 2, P), pow(coset, P - 2, P)
    return [a[i] * pow(coset_inv, i, P) * n_inv % P for i in range(n)]


def main():
    rng = random.Random(2026)
    lg_order = 8
    root = pow(GENERATOR, (P - 1) >> lg_order, P)
    for lg_n in range(0, lg_order + 1):
        n = 1 << lg_n
        omega = pow(root, 1 << (lg_order - lg_n), P)
        a = [rng.randrange(P) for _ in range(n)]
        g = rng.randrange(2, P)
        evals = [sum(a[i] * pow(omega, i * k, P) for i in range(n)) % P for k in range(n)]
        coset = [sum(a[i] * pow(g * pow(omega, k, P), i, P) for i in range(n)) % P for k in range(n)]
        assert ntt_cuda(a, lg_n, lg_order, root, False, 1) == evals, f"forward 2^{lg_n}"
        assert ntt_cuda(a, lg_n, lg_order, root, False, g) == coset, f"coset 2^{lg_n}"
        assert ntt_cuda(evals, lg_n, lg_order, root, True, 1) == a, f"inverse 2^{lg_n}"
        assert ntt_cuda(coset, lg_n, lg_order, root, True, g) == a, f"inverse coset 2^{lg_n}"
    print(f"bn254.cu NTT model: forward, inverse and coset transforms agree on 2^0..2^{lg_order}")


if __name__ == "__main__":
    main()
