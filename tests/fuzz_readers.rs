//! Fuzzed readers: thousands of damaged inputs per reader, every one refused with
//! a message (or accepted when the damage left it valid) — never a panic. The
//! counts go into docs/reliability.md through `cargo run -p zkinfer-tests --bin
//! reliability`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use zkinfer_tests::demo_artifacts;
use zkinfer_tests::fuzz::{all_targets, UNSOUND};

#[test]
fn no_reader_panics_on_damaged_input() {
    let artifacts = demo_artifacts();
    for stats in all_targets(&artifacts, 1000, 20261125) {
        assert_eq!(stats.panics, 0, "{}: {stats:?}", stats.target);
        assert_eq!(stats.blank_errors, 0, "{}: {stats:?}", stats.target);
        assert!(!stats.error_kinds.keys().any(|k| k.starts_with(UNSOUND)), "{}: {stats:?}", stats.target);
        assert!(stats.errors > stats.executions / 2, "{}: most damage must be detected: {stats:?}", stats.target);
    }
}
