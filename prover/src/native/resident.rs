//! Which column values are on the current coset, and when.
//!
//! The quotient is a sum of terms (a group of gates, one lookup, one chunk of the
//! permutation argument), each reading a few columns. Evaluating the terms one at
//! a time, a column is brought to the coset when a term first needs it and kept
//! while there is room; when there is none, the resident column whose next use
//! lies furthest ahead is dropped first (Belady's rule, exact here because the
//! order of the terms is known in advance). So at most `budget` columns' coset
//! values are live, instead of every fixed, advice and instance column at once,
//! and a column is transformed again only when the budget forced it out.

use halo2_axiom::halo2curves::bn256::Fr;
use rayon::prelude::*;

use super::expr::{Columns, Source};

/// The coset transform of one polynomial's coefficients.
pub trait CosetTransform: Sync {
    /// The values of `coeffs` on the coset.
    fn transform(&self, coeffs: &[Fr]) -> Vec<Fr>;
}

/// The coefficient forms the resident values are transformed from.
#[derive(Clone, Copy)]
pub struct Coefficients<'a> {
    /// Fixed columns.
    pub fixed: &'a [Vec<Fr>],
    /// Advice columns.
    pub advice: &'a [Vec<Fr>],
    /// Instance columns.
    pub instance: &'a [Vec<Fr>],
}

impl Coefficients<'_> {
    fn get(&self, source: Source) -> &[Fr] {
        match source {
            Source::Fixed(i) => &self.fixed[i],
            Source::Advice(i) => &self.advice[i],
            Source::Instance(i) => &self.instance[i],
        }
    }
}

/// Coset values of the columns the current term reads, and of as many others as
/// the budget allows. A column that is not resident is an empty vector.
pub struct Resident<'a, T: CosetTransform> {
    coefficients: Coefficients<'a>,
    transform: &'a T,
    /// The columns each term reads, in evaluation order.
    steps: &'a [Vec<Source>],
    budget: usize,
    fixed: Vec<Vec<Fr>>,
    advice: Vec<Vec<Fr>>,
    instance: Vec<Vec<Fr>>,
    resident: Vec<Source>,
    transforms: usize,
}

impl<'a, T: CosetTransform> Resident<'a, T> {
    /// Nothing resident yet. `budget` is raised to the widest step if below it.
    pub fn new(coefficients: Coefficients<'a>, transform: &'a T, steps: &'a [Vec<Source>], budget: usize) -> Self {
        let widest = steps.iter().map(Vec::len).max().unwrap_or(0);
        Resident {
            coefficients,
            transform,
            steps,
            budget: budget.max(widest),
            fixed: vec![Vec::new(); coefficients.fixed.len()],
            advice: vec![Vec::new(); coefficients.advice.len()],
            instance: vec![Vec::new(); coefficients.instance.len()],
            resident: Vec::new(),
            transforms: 0,
        }
    }

    fn slot(&mut self, source: Source) -> &mut Vec<Fr> {
        match source {
            Source::Fixed(i) => &mut self.fixed[i],
            Source::Advice(i) => &mut self.advice[i],
            Source::Instance(i) => &mut self.instance[i],
        }
    }

    /// The first step after `step` that reads `source`, or `usize::MAX`.
    fn next_use(&self, source: Source, step: usize) -> usize {
        self.steps[step + 1..].iter().position(|s| s.contains(&source)).map_or(usize::MAX, |p| step + 1 + p)
    }

    /// Makes every column of `steps[step]` resident.
    pub fn prepare(&mut self, step: usize) {
        let needed = &self.steps[step];
        let missing: Vec<Source> = needed.iter().copied().filter(|s| !self.resident.contains(s)).collect();
        let over = (self.resident.len() + missing.len()).saturating_sub(self.budget);
        if over > 0 {
            let mut candidates: Vec<(usize, Source)> =
                self.resident.iter().filter(|s| !needed.contains(s)).map(|&s| (self.next_use(s, step), s)).collect();
            candidates.sort_by_key(|c| std::cmp::Reverse(c.0));
            for (_, source) in candidates.into_iter().take(over) {
                *self.slot(source) = Vec::new();
                self.resident.retain(|s| *s != source);
            }
        }
        let coefficients = self.coefficients;
        let transform = self.transform;
        let values: Vec<Vec<Fr>> = missing.par_iter().map(|s| transform.transform(coefficients.get(*s))).collect();
        for (source, values) in missing.iter().zip(values) {
            *self.slot(*source) = values;
            self.resident.push(*source);
        }
        self.transforms += missing.len();
    }

    /// The resident values, indexed like the constraint system's columns.
    pub fn columns(&self) -> Columns<'_> {
        Columns { fixed: &self.fixed, advice: &self.advice, instance: &self.instance }
    }

    /// The values of one column, which must be resident.
    pub fn values(&self, source: Source) -> &[Fr] {
        self.columns().get(source)
    }

    /// How many coset transforms were made so far.
    pub fn transforms(&self) -> usize {
        self.transforms
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use halo2_axiom::halo2curves::ff::Field;

    /// The identity: a column's "coset values" are its coefficients.
    struct Identity;
    impl CosetTransform for Identity {
        fn transform(&self, coeffs: &[Fr]) -> Vec<Fr> {
            coeffs.to_vec()
        }
    }

    fn columns(count: usize) -> Vec<Vec<Fr>> {
        (0..count).map(|i| vec![Fr::from(i as u64 + 1); 4]).collect()
    }

    #[test]
    fn every_step_sees_its_columns_and_the_budget_holds() {
        let advice = columns(6);
        let fixed = columns(2);
        let coefficients = Coefficients { fixed: &fixed, advice: &advice, instance: &[] };
        let steps = vec![
            vec![Source::Advice(0), Source::Advice(1), Source::Fixed(0)],
            vec![Source::Advice(2), Source::Fixed(0)],
            vec![Source::Advice(0), Source::Advice(3)],
            vec![Source::Advice(4), Source::Advice(5), Source::Fixed(1)],
            vec![Source::Advice(0), Source::Fixed(0)],
        ];
        let mut resident = Resident::new(coefficients, &Identity, &steps, 3);
        for (i, step) in steps.iter().enumerate() {
            resident.prepare(i);
            for source in step {
                let expected = match source {
                    Source::Advice(c) => Fr::from(*c as u64 + 1),
                    Source::Fixed(c) => Fr::from(*c as u64 + 1),
                    Source::Instance(_) => Fr::ZERO,
                };
                assert_eq!(resident.values(*source), &[expected; 4], "step {i}, {source:?}");
            }
            assert!(resident.resident.len() <= 3, "step {i}: {} resident", resident.resident.len());
        }
        // 8 distinct columns. Belady keeps advice 0 and fixed 0 through steps 1
        // and 2 (dropping advice 1 and 2, never used again); only step 3, as wide
        // as the budget, forces them out, so they alone are transformed twice.
        assert_eq!(resident.transforms(), 10);
    }

    #[test]
    fn a_step_wider_than_the_budget_raises_it() {
        let advice = columns(4);
        let coefficients = Coefficients { fixed: &[], advice: &advice, instance: &[] };
        let steps = vec![(0..4).map(Source::Advice).collect::<Vec<_>>()];
        let mut resident = Resident::new(coefficients, &Identity, &steps, 1);
        resident.prepare(0);
        assert!((0..4).all(|c| !resident.values(Source::Advice(c)).is_empty()));
    }
}
