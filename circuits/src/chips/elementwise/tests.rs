//! MockProver tests of every template: honest rows pass; each kind of tampering is
//! caught by the constraint (or lookup) meant to catch it.

use halo2_axiom::circuit::{Layouter, SimpleFloorPlanner};
use halo2_axiom::dev::{MockProver, VerifyFailure};
use halo2_axiom::halo2curves::bn256::Fr;
use halo2_axiom::plonk::{Circuit, ConstraintSystem, Error};

use super::*;

/// A row: template, operands, constant, and an optional replacement witness.
#[derive(Clone, Debug)]
struct Row {
    template: Template,
    a: i128,
    b: i128,
    k: i64,
    witness: Option<ElemRow>,
}

fn row(template: Template, a: i128, b: i128, k: i64) -> Row {
    Row { template, a, b, k, witness: None }
}

#[derive(Clone, Debug)]
struct TestCircuit {
    ranges: Ranges,
    rows: Vec<Row>,
}

#[derive(Clone, Debug)]
struct Cfg {
    elem: ElemConfig,
    table: RangeTableConfig,
}

impl Circuit<Fr> for TestCircuit {
    type Config = Cfg;
    type FloorPlanner = SimpleFloorPlanner;
    type Params = Ranges;

    fn without_witnesses(&self) -> Self {
        self.clone()
    }

    fn params(&self) -> Ranges {
        self.ranges
    }

    fn configure_with_params(meta: &mut ConstraintSystem<Fr>, ranges: Ranges) -> Cfg {
        let table = RangeTableConfig::configure(meta, ranges.lookup_bits);
        let elem = ElemConfig::configure(meta, &Template::ALL, ranges, &table, None);
        Cfg { elem, table }
    }

    fn configure(_: &mut ConstraintSystem<Fr>) -> Cfg {
        unreachable!("configured with params")
    }

    fn synthesize(&self, cfg: Cfg, mut layouter: impl Layouter<Fr>) -> Result<(), Error> {
        cfg.table.load(&mut layouter)?;
        layouter.assign_region(
            || "rows",
            |mut region| {
                for (i, r) in self.rows.iter().enumerate() {
                    let w = match &r.witness {
                        Some(w) => w.clone(),
                        None => {
                            elem_row(r.template, &self.ranges, r.a, r.b, r.k as i128).map_err(|_| Error::Synthesis)?
                        }
                    };
                    cfg.elem.assign(&mut region, i, r.template, r.k, Some(&w), None, None)?;
                }
                Ok(())
            },
        )
    }
}

impl Default for Ranges {
    fn default() -> Self {
        ALIGNED
    }
}

/// L = 4 divides s = 4: one-sided remainders.
const ALIGNED: Ranges = Ranges { lookup_bits: 4, value_bits: 8, scale: 4 };
/// L = 4 does not divide s = 3: two-sided remainders.
const UNALIGNED: Ranges = Ranges { lookup_bits: 4, value_bits: 8, scale: 3 };

fn run(ranges: Ranges, rows: Vec<Row>) -> Result<(), Vec<VerifyFailure>> {
    let c = TestCircuit { ranges, rows };
    MockProver::run(7, &c, vec![]).expect("synthesis").verify()
}

/// Asserts that verification fails with a constraint named `constraint` of gate `gate`.
fn assert_constraint(res: Result<(), Vec<VerifyFailure>>, gate: &str, constraint: &str) {
    let errs = res.expect_err("tampered witness must be rejected");
    let hit = errs.iter().any(|e| match e {
        VerifyFailure::ConstraintNotSatisfied { constraint: c, .. } => {
            let s = c.to_string();
            s.contains(&format!("('{constraint}')")) && s.contains(&format!("('{gate}')"))
        }
        _ => false,
    });
    assert!(hit, "expected {gate}/{constraint} to fail, got {errs:#?}");
}

fn assert_lookup(res: Result<(), Vec<VerifyFailure>>) {
    let errs = res.expect_err("out-of-range limb must be rejected");
    assert!(errs.iter().any(|e| matches!(e, VerifyFailure::Lookup { .. })), "{errs:#?}");
}

fn honest_rows() -> Vec<Row> {
    vec![
        row(Template::Range, -128, 0, 0),
        row(Template::Range, 127, 0, 0),
        row(Template::Rescale, 37, 0, 0),
        row(Template::Rescale, -37, 0, 0),
        row(Template::Rescale, -1000, 0, 0),
        row(Template::RescaleRelu, 500, 0, 0),
        row(Template::RescaleRelu, -500, 0, 0),
        row(Template::MulRescale, 25, -13, 0),
        row(Template::MulRescale, -30, -30, 0),
        row(Template::Max, -7, 3, 0),
        row(Template::Max, 90, -100, 0),
        row(Template::Min, -7, 3, 0),
        row(Template::MaxConst, -7, 0, 0),
        row(Template::MaxConst, 9, 0, 12),
        row(Template::MinConst, 9, 0, -3),
        // 3/7 at scale 4: round(48 / 7) = 7; -5/16 → round(-80 / 16) = -5.
        row(Template::Div, 3, 7, 0),
        row(Template::Div, -5, 16, 0),
        row(Template::Div, 5, 1, 0),
        // sqrt(5) at scale 4: floor(sqrt(80)) = 8 (0.5 vs 2.236: floor at scale 4).
        row(Template::Sqrt, 5, 0, 0),
        row(Template::Sqrt, 0, 0, 0),
        row(Template::Sqrt, 64, 0, 0),
    ]
}

#[test]
fn honest_rows_pass_in_both_remainder_modes() {
    run(ALIGNED, honest_rows()).unwrap();
    run(UNALIGNED, honest_rows()).unwrap();
}

#[test]
fn reference_matches_the_integer_evaluator() {
    let w = elem_row(Template::Rescale, &ALIGNED, -37, 0, 0).unwrap();
    assert_eq!(w.c, rescale(-37, 4));
    let w = elem_row(Template::RescaleRelu, &ALIGNED, -500, 0, 0).unwrap();
    assert_eq!(w.c, 0);
    let w = elem_row(Template::RescaleRelu, &ALIGNED, 500, 0, 0).unwrap();
    assert_eq!(w.c, rescale(500, 4));
    let w = elem_row(Template::MinConst, &ALIGNED, 9, 0, -3).unwrap();
    assert_eq!(w.c, -3);
    assert!(elem_row(Template::Range, &ALIGNED, 128, 0, 0).is_err(), "out of range is refused");
}

fn tampered(
    ranges: Ranges,
    template: Template,
    a: i128,
    b: i128,
    k: i64,
    f: impl FnOnce(&mut ElemRow),
) -> Result<(), Vec<VerifyFailure>> {
    let mut w = elem_row(template, &ranges, a, b, k as i128).unwrap();
    f(&mut w);
    run(ranges, vec![Row { template, a, b, k, witness: Some(w) }])
}

#[test]
fn wrong_rescale_result_is_rejected() {
    // c one too large, limbs left as for the honest c.
    let res = tampered(ALIGNED, Template::Rescale, 37, 0, 0, |w| w.c += 1);
    assert_constraint(res, "rescale", "remainder low");
}

#[test]
fn wrong_remainder_is_rejected() {
    let res = tampered(ALIGNED, Template::Rescale, 37, 0, 0, |w| w.limbs[0] ^= 1);
    assert_constraint(res, "rescale", "remainder low");
}

#[test]
fn out_of_range_remainder_is_rejected() {
    // c one too small: the remainder becomes 2^s + r, which the limb cannot hold.
    let res = tampered(ALIGNED, Template::Rescale, 37, 0, 0, |w| {
        w.c -= 1;
        w.limbs[0] += 16;
        let v = decompose(w.c + 128, 2, 4).unwrap();
        w.limbs[1..3].copy_from_slice(&v);
    });
    assert_lookup(res);
    // Unaligned: the remainder fits its limb, the complement check catches it.
    let res = tampered(UNALIGNED, Template::Rescale, 37, 0, 0, |w| {
        w.c -= 1;
        w.limbs[0] += 8;
        w.limbs[1] = w.limbs[1].wrapping_sub(8) & 0xf;
        let v = decompose(w.c + 128, 2, 4).unwrap();
        w.limbs[2..4].copy_from_slice(&v);
    });
    assert_constraint(res, "rescale", "remainder high");
}

#[test]
fn out_of_range_value_is_rejected() {
    // 128 needs 9 bits; wrapping its limbs to 8 bits breaks the decomposition.
    let res = tampered(ALIGNED, Template::Range, 127, 0, 0, |w| w.a = 128);
    assert_constraint(res, "range", "value range");
    let res = tampered(ALIGNED, Template::Rescale, 37, 0, 0, |w| {
        w.c += 1 << 8;
        w.a += 1 << 12;
    });
    assert_constraint(res, "rescale", "value range");
}

#[test]
fn wrong_relu_sign_is_rejected() {
    // Negative pre-activation passed through instead of clamped to 0.
    let res = tampered(ALIGNED, Template::RescaleRelu, -500, 0, 0, |w| {
        w.c = rescale(-500, 4);
        let r = ALIGNED.remainder_limbs();
        let wrapped = decompose(w.c.rem_euclid(256), 2, 4).unwrap();
        w.limbs[r..r + 2].copy_from_slice(&wrapped);
        w.limbs[r + 2..r + 4].copy_from_slice(&[0, 0]);
    });
    assert_constraint(res, "rescale_relu", "relu non-negative");
    // Positive pre-activation clamped to 0.
    let res = tampered(ALIGNED, Template::RescaleRelu, 500, 0, 0, |w| {
        w.c = 0;
        let r = ALIGNED.remainder_limbs();
        w.limbs[r..r + 2].copy_from_slice(&[0, 0]);
    });
    assert_constraint(res, "rescale_relu", "relu above input");
}

#[test]
fn wrong_max_and_min_are_rejected() {
    let res = tampered(ALIGNED, Template::Max, -7, 3, 0, |w| w.c = -7);
    assert_constraint(res, "max", "second difference");
    let res = tampered(ALIGNED, Template::Min, -7, 3, 0, |w| w.c = 3);
    assert_constraint(res, "min", "first difference");
    let res = tampered(ALIGNED, Template::Max, -7, 3, 0, |w| w.c = 5);
    assert_constraint(res, "max", "choice");
    let res = tampered(ALIGNED, Template::MaxConst, -7, 0, 0, |w| w.c = -7);
    assert_constraint(res, "max_const", "second difference");
}

#[test]
fn wrong_product_is_rejected() {
    let res = tampered(ALIGNED, Template::MulRescale, 25, -13, 0, |w| w.b = 13);
    assert_constraint(res, "mul_rescale", "remainder low");
}

#[test]
fn division_matches_floor_and_rejects_tampering() {
    let w = elem_row(Template::Div, &ALIGNED, 3, 7, 0).unwrap();
    assert_eq!(w.c, 7, "48/7 = 6.86 rounds to 7");
    assert!(elem_row(Template::Div, &ALIGNED, 3, 0, 0).is_err(), "zero divisor refused");
    assert!(elem_row(Template::Div, &ALIGNED, 3, -2, 0).is_err(), "negative divisor refused");
    // A quotient one too small with the remainder raised to match: the remainder
    // is no longer below twice the divisor.
    let res = tampered(ALIGNED, Template::Div, 3, 7, 0, |w| {
        w.c -= 1;
        let r = 2 * 48 + 7 - 2 * w.c * 7;
        w.limbs[0..2].copy_from_slice(&decompose(r, 2, 4).unwrap());
        // 2b - 1 - r is negative: its limbs cannot represent it; keep the old ones.
    });
    assert_constraint(res, "div", "remainder below divisor");
    // A wrong quotient alone breaks the division equation.
    let res = tampered(ALIGNED, Template::Div, 3, 7, 0, |w| w.c += 1);
    assert_constraint(res, "div", "quotient");
    // A divisor changed without the rest.
    let res = tampered(ALIGNED, Template::Div, 3, 7, 0, |w| w.b += 1);
    assert!(res.is_err());
}

#[test]
fn square_root_is_the_floor_and_rejects_tampering() {
    let w = elem_row(Template::Sqrt, &ALIGNED, 5, 0, 0).unwrap();
    assert_eq!(w.c, 8);
    assert!(elem_row(Template::Sqrt, &ALIGNED, -1, 0, 0).is_err(), "negative input refused");
    // One too large: c² exceeds a·2^s, the remainder would be negative.
    let res = tampered(ALIGNED, Template::Sqrt, 5, 0, 0, |w| w.c += 1);
    assert_constraint(res, "sqrt", "square below");
    // One too small with the remainder raised to match: above the next square.
    let res = tampered(ALIGNED, Template::Sqrt, 5, 0, 0, |w| {
        w.c -= 1;
        let d = 80 - w.c * w.c;
        w.limbs[0..2].copy_from_slice(&decompose(d, 2, 4).unwrap());
    });
    assert_constraint(res, "sqrt", "next square above");
}
