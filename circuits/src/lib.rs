//! # zkinfer-circuits
//!
//! halo2 (KZG over BN254, via `halo2-axiom`) chips and the model circuit that
//! proves zkinfer's quantised graph IR. Never depends on tract.
//!
//! - [`chips`]: the dot-product lane, the element-wise lane and the range table;
//! - [`layout`]: placement of a graph onto lanes and rows;
//! - [`bounds`]: what the constraints bound each element to (packed commitments);
//! - [`segment`] and [`cuts`]: cutting a graph into linked segments;
//! - [`plan`]: choosing lanes, k and limb width by a cost model;
//! - [`circuit`]: the halo2 `Circuit` and its witness;
//! - [`mutation`]: witness-mutation testing of whole circuits.

#![deny(missing_docs)]

pub mod bounds;
pub mod chips;
pub mod circuit;
pub mod compile;
pub mod cuts;
pub mod error;
pub mod layout;
pub mod mutation;
pub mod plan;
pub mod poseidon;
pub mod segment;
pub mod shape;
pub mod visibility;

pub use circuit::{ModelCircuit, Program, Witness};
pub use error::CircuitError;
pub use halo2_axiom;
pub use shape::CircuitShape;
