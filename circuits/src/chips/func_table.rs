//! The function table: rows `(tag, x, f_tag(x))` for every function the graph
//! looks up ([`zkinfer_models::ir::Graph::lookup_tables`]), each over its input
//! range, plus the row `(0, 0, 0)` that rows without a lookup match.

use halo2_axiom::circuit::{Layouter, Value};
use halo2_axiom::halo2curves::ff::PrimeField;
use halo2_axiom::plonk::{ConstraintSystem, Error, TableColumn};
use zkinfer_models::func::Func;
use zkinfer_models::ir::{Graph, Op};

use super::fe;

/// The three table columns.
#[derive(Clone, Debug)]
pub struct FuncTableConfig {
    /// Which function (its position in the graph's table list, plus one).
    pub tag: TableColumn,
    /// Input.
    pub x: TableColumn,
    /// Output.
    pub y: TableColumn,
}

/// Rows of the function table for `tables` and data tables of `data_rows` entries
/// in all (the zero row included).
pub fn table_rows(tables: &[(Func, u32)], data_rows: usize) -> usize {
    1 + tables.iter().map(|(_, bits)| 1usize << bits).sum::<usize>() + data_rows
}

impl FuncTableConfig {
    /// Allocates the columns.
    pub fn configure<F: PrimeField>(meta: &mut ConstraintSystem<F>) -> Self {
        FuncTableConfig {
            tag: meta.lookup_table_column(),
            x: meta.lookup_table_column(),
            y: meta.lookup_table_column(),
        }
    }

    /// Fills the table with `graph`'s function tables, then its data tables
    /// (keys `i·2^s`), tagged as [`Graph::table_tag`] says.
    pub fn load<F: PrimeField>(&self, layouter: &mut impl Layouter<F>, graph: &Graph) -> Result<(), Error> {
        let (tables, scale) = (graph.lookup_tables(), graph.scale);
        layouter.assign_table(
            || "function table",
            |mut t| {
                let mut rows = vec![(0i128, 0i128, 0i128)];
                for (i, (func, bits)) in tables.iter().enumerate() {
                    let (lo, hi) = func.input_range(*bits);
                    rows.extend((lo..=hi).map(|x| (i as i128 + 1, x as i128, func.table_value(x, scale) as i128)));
                }
                for (j, node) in graph.data_tables().into_iter().enumerate() {
                    if let Op::Gather { data, .. } = &graph.nodes[node].op {
                        let tag = (tables.len() + j) as i128 + 1;
                        rows.extend(data.iter().enumerate().map(|(i, v)| (tag, (i as i128) << scale, *v as i128)));
                    }
                }
                for (row, (tag, x, y)) in rows.into_iter().enumerate() {
                    t.assign_cell(|| "tag", self.tag, row, || Value::known(fe::<F>(tag)))?;
                    t.assign_cell(|| "x", self.x, row, || Value::known(fe::<F>(x)))?;
                    t.assign_cell(|| "y", self.y, row, || Value::known(fe::<F>(y)))?;
                }
                Ok(())
            },
        )
    }
}

#[cfg(test)]
mod tests;
