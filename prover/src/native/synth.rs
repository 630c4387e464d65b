//! Synthesis for the native prover: one pass of the circuit's `synthesize`
//! through our own [`Assignment`] collects the advice witness, the fixed columns,
//! the selectors and the copy constraints, so the native proving key need not
//! store any of them.

use halo2_axiom::circuit::Value;
use halo2_axiom::halo2curves::bn256::Fr;
use halo2_axiom::halo2curves::ff::{Field, PrimeField};
use halo2_axiom::plonk::{
    Advice, Any, Assigned, Assignment, Challenge, Circuit, Column, ConstraintSystem, Error as Halo2Error, Fixed,
    FloorPlanner, Instance, Selector,
};

use super::engine::root_of_unity;
use super::NativeError;

/// Everything one synthesis pass yields, in the Lagrange basis, with the
/// constraint system as halo2's key generation leaves it (selectors compressed
/// into fixed columns).
pub struct Synthesis {
    /// The constraint system after selector compression.
    pub cs: ConstraintSystem<Fr>,
    /// Advice columns; the blinding rows are still zero.
    pub advice: Vec<Vec<Fr>>,
    /// Fixed columns, the compressed selector columns last.
    pub fixed: Vec<Vec<Fr>>,
    /// The copy constraints as halo2's permutation argument sees them.
    pub copies: CopyCycles,
}

/// Runs `circuit`'s synthesis for a domain of `2^k` rows with the given instance
/// columns.
pub fn synthesize<C: Circuit<Fr>>(circuit: &C, k: u32, instances: &[&[Fr]]) -> Result<Synthesis, NativeError> {
    let mut cs = ConstraintSystem::<Fr>::default();
    let config = C::configure_with_params(&mut cs, circuit.params());
    let n = 1usize << k;
    if n < cs.minimum_rows() {
        return Err(NativeError::Circuit(format!(
            "2^{k} rows are fewer than the circuit's minimum {}",
            cs.minimum_rows()
        )));
    }
    if cs.num_challenges() > 0 || cs.advice_column_phase().iter().any(|phase| *phase != 0) {
        return Err(NativeError::Unsupported("circuits with challenges or several advice phases".into()));
    }
    let usable = n - (cs.blinding_factors() + 1);
    let mut collector = Collector {
        usable,
        instances,
        advice: vec![vec![Fr::ZERO; n]; cs.num_advice_columns()],
        fixed: vec![vec![Fr::ZERO; n]; cs.num_fixed_columns()],
        selectors: vec![vec![false; n]; cs.num_selectors()],
        copies: CopyCycles::new(n, cs.permutation().get_columns()),
        error: None,
    };
    C::FloorPlanner::synthesize(&mut collector, circuit, config, cs.constants().clone())
        .map_err(|e| NativeError::Circuit(format!("synthesis failed: {e:?}")))?;
    if let Some(error) = collector.error {
        return Err(error);
    }
    let Collector { advice, mut fixed, selectors, copies, .. } = collector;
    let (cs, selector_columns) = cs.compress_selectors(selectors);
    fixed.extend(selector_columns);
    Ok(Synthesis { cs, advice, fixed, copies })
}

struct Collector<'a> {
    usable: usize,
    instances: &'a [&'a [Fr]],
    advice: Vec<Vec<Fr>>,
    fixed: Vec<Vec<Fr>>,
    selectors: Vec<Vec<bool>>,
    copies: CopyCycles,
    error: Option<NativeError>,
}

impl Collector<'_> {
    fn fail(&mut self, message: String) {
        if self.error.is_none() {
            self.error = Some(NativeError::Circuit(message));
        }
    }

    fn check_row(&mut self, what: &str, row: usize) -> bool {
        if row < self.usable {
            return true;
        }
        self.fail(format!("{what} at row {row}, but only {} rows are usable", self.usable));
        false
    }
}

impl Assignment<Fr> for Collector<'_> {
    fn enter_region<NR, N>(&mut self, _: N)
    where
        NR: Into<String>,
        N: FnOnce() -> NR,
    {
    }

    fn exit_region(&mut self) {}

    fn annotate_column<A, AR>(&mut self, _: A, _: Column<Any>)
    where
        A: FnOnce() -> AR,
        AR: Into<String>,
    {
    }

    fn enable_selector<A, AR>(&mut self, _: A, selector: &Selector, row: usize) -> Result<(), Halo2Error>
    where
        A: FnOnce() -> AR,
        AR: Into<String>,
    {
        if !self.check_row("a selector", row) {
            return Err(Halo2Error::BoundsFailure);
        }
        self.selectors[selector.index()][row] = true;
        Ok(())
    }

    fn query_instance(&self, column: Column<Instance>, row: usize) -> Result<Value<Fr>, Halo2Error> {
        if row >= self.usable {
            return Err(Halo2Error::BoundsFailure);
        }
        self.instances
            .get(column.index())
            .and_then(|values| values.get(row))
            .map(|v| Value::known(*v))
            .ok_or(Halo2Error::BoundsFailure)
    }

    /// Records the value; returns `unknown`, because a reference that outlives this
    /// call cannot be handed out without `unsafe`. zkinfer's circuits (and halo2's
    /// layouters) never read assigned values back; a circuit that did would assign
    /// an unknown value, which is reported as an error, never proven.
    fn assign_advice<'v>(
        &mut self,
        column: Column<Advice>,
        row: usize,
        to: Value<Assigned<Fr>>,
    ) -> Value<&'v Assigned<Fr>> {
        if !self.check_row("an advice cell", row) {
            return Value::unknown();
        }
        let mut known = false;
        let cell = &mut self.advice[column.index()][row];
        to.map(|value| {
            *cell = value.evaluate();
            known = true;
        });
        if !known {
            self.fail(format!("advice column {} row {row} was assigned an unknown value", column.index()));
        }
        Value::unknown()
    }

    fn assign_fixed(&mut self, column: Column<Fixed>, row: usize, to: Assigned<Fr>) {
        if self.check_row("a fixed cell", row) {
            self.fixed[column.index()][row] = to.evaluate();
        }
    }

    fn copy(&mut self, left: Column<Any>, left_row: usize, right: Column<Any>, right_row: usize) {
        if !self.check_row("a copy constraint", left_row.max(right_row)) {
            return;
        }
        if let Err(message) = self.copies.copy(left, left_row, right, right_row) {
            self.fail(message);
        }
    }

    fn fill_from_row(&mut self, column: Column<Fixed>, row: usize, to: Value<Assigned<Fr>>) -> Result<(), Halo2Error> {
        if !self.check_row("a fixed fill", row) {
            return Err(Halo2Error::BoundsFailure);
        }
        let mut filler = None;
        to.map(|v| filler = Some(v.evaluate()));
        let filler = filler.ok_or(Halo2Error::Synthesis)?;
        let usable = self.usable;
        for cell in &mut self.fixed[column.index()][row..usable] {
            *cell = filler;
        }
        Ok(())
    }

    fn get_challenge(&self, _: Challenge) -> Value<Fr> {
        Value::unknown()
    }

    fn push_namespace<NR, N>(&mut self, _: N)
    where
        NR: Into<String>,
        N: FnOnce() -> NR,
    {
    }

    fn pop_namespace(&mut self, _: Option<String>) {}
}

/// The permutation of the copy constraints, built exactly as halo2's key
/// generation builds it (cycles merged smaller-into-larger, in call order), so the
/// permutation polynomials match the verifying key's commitments.
pub struct CopyCycles {
    columns: Vec<Column<Any>>,
    mapping: Vec<Vec<(u32, u32)>>,
    aux: Vec<Vec<(u32, u32)>>,
    sizes: Vec<Vec<u32>>,
}

impl CopyCycles {
    fn new(n: usize, columns: Vec<Column<Any>>) -> Self {
        let identity: Vec<Vec<(u32, u32)>> =
            (0..columns.len()).map(|c| (0..n).map(|r| (c as u32, r as u32)).collect()).collect();
        let sizes = vec![vec![1u32; n]; columns.len()];
        CopyCycles { columns, mapping: identity.clone(), aux: identity, sizes }
    }

    fn position(&self, column: Column<Any>) -> Result<usize, String> {
        self.columns
            .iter()
            .position(|c| *c == column)
            .ok_or_else(|| format!("column {column:?} is copied but not equality-enabled"))
    }

    fn copy(&mut self, left: Column<Any>, left_row: usize, right: Column<Any>, right_row: usize) -> Result<(), String> {
        let (lc, rc) = (self.position(left)?, self.position(right)?);
        let mut left_cycle = self.aux[lc][left_row];
        let mut right_cycle = self.aux[rc][right_row];
        if left_cycle == right_cycle {
            return Ok(());
        }
        let size = |s: &Self, at: (u32, u32)| s.sizes[at.0 as usize][at.1 as usize];
        if size(self, left_cycle) < size(self, right_cycle) {
            std::mem::swap(&mut left_cycle, &mut right_cycle);
        }
        self.sizes[left_cycle.0 as usize][left_cycle.1 as usize] += size(self, right_cycle);
        let mut at = right_cycle;
        loop {
            self.aux[at.0 as usize][at.1 as usize] = left_cycle;
            at = self.mapping[at.0 as usize][at.1 as usize];
            if at == right_cycle {
                break;
            }
        }
        let tmp = self.mapping[lc][left_row];
        self.mapping[lc][left_row] = self.mapping[rc][right_row];
        self.mapping[rc][right_row] = tmp;
        Ok(())
    }

    /// The columns of the permutation argument, in its order.
    pub fn columns(&self) -> &[Column<Any>] {
        &self.columns
    }

    /// The permutation polynomials `σ_c` in the Lagrange basis:
    /// `σ_c(ω^r) = δ^{c'}·ω^{r'}` where cell `(c, r)` maps to `(c', r')`.
    pub fn sigma_values(&self, k: u32) -> Vec<Vec<Fr>> {
        use rayon::prelude::*;
        let n = 1usize << k;
        let omega = root_of_unity(k);
        let mut omega_powers = Vec::with_capacity(n);
        let mut power = Fr::ONE;
        for _ in 0..n {
            omega_powers.push(power);
            power *= omega;
        }
        let deltas: Vec<Fr> =
            std::iter::successors(Some(Fr::ONE), |d| Some(*d * Fr::DELTA)).take(self.columns.len()).collect();
        self.mapping
            .par_iter()
            .map(|column| column.iter().map(|&(c, r)| deltas[c as usize] * omega_powers[r as usize]).collect())
            .collect()
    }
}
