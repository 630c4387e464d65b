//! Randomized small CNNs (convolution geometry, pooling, dense): zkinfer's lowering
//! matches tract, and the circuit reproduces the integer reference exactly.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use zkinfer_circuits::compile::CompileOptions;
use zkinfer_tests::cases::RandomCnn;
use zkinfer_tests::prepare;

fn random_cnn() -> impl Strategy<Value = RandomCnn> {
    (
        (1usize..=2, 5usize..=8, 5usize..=8, 1usize..=2, 1usize..=2),
        (1usize..=3, 1usize..=3, 1usize..=2, 1usize..=2, 1usize..=2, 1usize..=2),
        (0usize..=1, 0usize..=1, 0usize..=1, 0usize..=1),
        (any::<bool>(), 1usize..=3, any::<u64>()),
    )
        .prop_map(
            |((channels, h, w, out_per_group, group), (kh, kw, sh, sw, dh, dw), pad, (max_pool, dense, seed))| {
                RandomCnn {
                    channels,
                    hw: (h, w),
                    out_per_group,
                    group,
                    kernel: (kh, kw),
                    stride: (sh, sw),
                    dilation: (dh, dw),
                    pad,
                    max_pool,
                    dense,
                    seed,
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, max_shrink_iters: 16, ..ProptestConfig::default() })]

    #[test]
    fn random_cnns_agree_across_layers(spec in random_cnn()) {
        let case = spec.build();
        prop_assume!(case.is_some(), "geometry leaves no output");
        let Some(case) = case else { return Ok(()) };
        let p = prepare(case.model, case.inputs, &CompileOptions::default());
        prop_assert!(p.lowering_error < 1e-4, "lowering differs from tract by {}", p.lowering_error);
        p.assert_circuit_equals_reference(&format!("{spec:?}"));
    }
}
