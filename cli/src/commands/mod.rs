//! One file per subcommand.

pub mod aggregate;
pub mod bench;
pub mod bench_engines;
pub mod calibrate;
pub mod chain;
pub mod compile;
pub mod evm;
pub mod hash;
pub mod import_srs;
pub mod inspect;
pub mod ops;
pub mod prove;
pub mod run;
pub mod setup;
pub mod verify;
pub mod witness;
