//! The shared range table `[0, 2^L)` that every limb column is looked up in.
//! Small limbs (8–16 bits, sized to the circuit's k) keep the table from forcing k up.

use halo2_axiom::circuit::{Layouter, Value};
use halo2_axiom::halo2curves::ff::PrimeField;
use halo2_axiom::plonk::{ConstraintSystem, Error, TableColumn};

/// The table column and its width.
#[derive(Clone, Debug)]
pub struct RangeTableConfig {
    /// The lookup table column.
    pub column: TableColumn,
    /// Bits per limb: the table holds `0..2^bits`.
    pub bits: u32,
}

impl RangeTableConfig {
    /// Allocates the table column.
    pub fn configure<F: PrimeField>(meta: &mut ConstraintSystem<F>, bits: u32) -> Self {
        RangeTableConfig { column: meta.lookup_table_column(), bits }
    }

    /// Fills the table.
    pub fn load<F: PrimeField>(&self, layouter: &mut impl Layouter<F>) -> Result<(), Error> {
        layouter.assign_table(
            || "range table",
            |mut table| {
                for i in 0..(1u64 << self.bits) {
                    table.assign_cell(|| "range", self.column, i as usize, || Value::known(F::from(i)))?;
                }
                Ok(())
            },
        )
    }
}
