//! The lookup and permutation arguments' witness polynomials, in the Lagrange
//! basis, computed exactly as halo2 lays them out (the verifier checks these
//! shapes): permuted lookup columns `A'`, `S'` with their grand product `Z`, and
//! one grand product per chunk of permutation columns.

use std::collections::HashMap;

use halo2_axiom::halo2curves::bn256::Fr;
use halo2_axiom::halo2curves::ff::{BatchInvert, Field, PrimeField};
use rand::RngCore;
use rayon::prelude::*;

use super::engine::root_of_unity;
use super::NativeError;

const PAR_CHUNK: usize = 1 << 12;

/// Permutes a lookup's compressed input and table values so that every run of
/// equal inputs starts at a row where the table holds the same value (halo2's
/// `A'`, `S'`); rows past `usable` are random.
pub fn permute_lookup(
    name: &str,
    input: &[Fr],
    table: &[Fr],
    usable: usize,
    rng: &mut impl RngCore,
) -> Result<(Vec<Fr>, Vec<Fr>), NativeError> {
    let n = input.len();
    let mut permuted_input = input[..usable].to_vec();
    permuted_input.par_sort();
    let mut leftover: HashMap<Fr, u32> = HashMap::with_capacity(usable);
    for value in &table[..usable] {
        *leftover.entry(*value).or_insert(0) += 1;
    }
    let mut permuted_table = vec![Fr::ZERO; usable];
    let mut repeated = Vec::new();
    for row in 0..usable {
        let value = permuted_input[row];
        if row == 0 || value != permuted_input[row - 1] {
            match leftover.get_mut(&value) {
                Some(count) if *count > 0 => *count -= 1,
                _ => {
                    let original = input[..usable].iter().position(|v| *v == value).unwrap_or(row);
                    return Err(NativeError::Witness(format!(
                        "lookup \"{name}\": the value at row {original} is not in its table"
                    )));
                }
            }
            permuted_table[row] = value;
        } else {
            repeated.push(row);
        }
    }
    let mut rest = leftover.into_iter().flat_map(|(value, count)| std::iter::repeat_n(value, count as usize));
    for row in repeated {
        permuted_table[row] = rest.next().ok_or_else(|| {
            NativeError::Witness(format!("lookup \"{name}\": more distinct input rows than table rows"))
        })?;
    }
    permuted_input.resize_with(n, || Fr::random(&mut *rng));
    permuted_table.resize_with(n, || Fr::random(&mut *rng));
    Ok((permuted_input, permuted_table))
}

/// The lookup grand product `Z`: `Z(ω^{i+1}) = Z(ω^i)·(A_i+β)(S_i+γ) / ((A'_i+β)(S'_i+γ))`
/// from `Z(1) = 1`, with the last `blinding` rows random.
#[allow(clippy::too_many_arguments)]
pub fn lookup_product(
    input: &[Fr],
    table: &[Fr],
    permuted_input: &[Fr],
    permuted_table: &[Fr],
    beta: Fr,
    gamma: Fr,
    blinding: usize,
    rng: &mut impl RngCore,
) -> Vec<Fr> {
    let n = input.len();
    let mut ratio = vec![Fr::ZERO; n];
    ratio.par_chunks_mut(PAR_CHUNK).enumerate().for_each(|(chunk, out)| {
        let start = chunk * PAR_CHUNK;
        for (i, r) in out.iter_mut().enumerate() {
            *r = (beta + permuted_input[start + i]) * (gamma + permuted_table[start + i]);
        }
        out.iter_mut().batch_invert();
        for (i, r) in out.iter_mut().enumerate() {
            *r *= (input[start + i] + beta) * (table[start + i] + gamma);
        }
    });
    running_product(Fr::ONE, &ratio, n - blinding, blinding, rng)
}

/// `[start, start·r_0, start·r_0·r_1, …]` for `computed` rows, then `blinding`
/// random values.
fn running_product(start: Fr, ratio: &[Fr], computed: usize, blinding: usize, rng: &mut impl RngCore) -> Vec<Fr> {
    let mut z = Vec::with_capacity(computed + blinding);
    let mut acc = start;
    z.push(acc);
    for r in &ratio[..computed - 1] {
        acc *= r;
        z.push(acc);
    }
    z.extend((0..blinding).map(|_| Fr::random(&mut *rng)));
    z
}

/// The permutation argument's grand products, one per chunk of `chunk_len`
/// columns: `values[c]` are the columns' Lagrange values and `sigmas[c]` their
/// permutation polynomials, in the argument's column order.
pub fn permutation_products(
    values: &[&[Fr]],
    sigmas: &[Vec<Fr>],
    chunk_len: usize,
    beta: Fr,
    gamma: Fr,
    blinding: usize,
    rng: &mut impl RngCore,
) -> Vec<Vec<Fr>> {
    let n = sigmas.first().map_or(0, Vec::len);
    if n == 0 {
        return Vec::new();
    }
    let omega = root_of_unity(n.trailing_zeros());
    let mut delta_start = Fr::ONE; // δ^(column index)
    let mut last_z = Fr::ONE;
    let mut sets = Vec::new();
    for (columns, sigma) in values.chunks(chunk_len).zip(sigmas.chunks(chunk_len)) {
        let mut ratio = vec![Fr::ONE; n];
        let first_delta = delta_start;
        ratio.par_chunks_mut(PAR_CHUNK).enumerate().for_each(|(chunk, out)| {
            let start = chunk * PAR_CHUNK;
            for (column, sigma) in columns.iter().zip(sigma) {
                for (i, r) in out.iter_mut().enumerate() {
                    *r *= beta * sigma[start + i] + gamma + column[start + i];
                }
            }
            out.iter_mut().batch_invert();
            let mut delta = first_delta;
            let omega_start = omega.pow_vartime([start as u64]);
            for column in columns.iter() {
                let mut point = delta * omega_start;
                for (i, r) in out.iter_mut().enumerate() {
                    *r *= point * beta + gamma + column[start + i];
                    point *= omega;
                }
                delta *= Fr::DELTA;
            }
        });
        for _ in columns {
            delta_start *= Fr::DELTA;
        }
        let z = running_product(last_z, &ratio, n - blinding, blinding, rng);
        last_z = z[n - blinding - 1];
        sets.push(z);
    }
    sets
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    #[test]
    fn permuted_lookup_columns_have_halo2s_shape() {
        let mut rng = StdRng::seed_from_u64(5);
        let n = 16;
        let usable = 12;
        let table: Vec<Fr> = (0..n as u64).map(|i| Fr::from(i % 6)).collect();
        let input: Vec<Fr> = [3u64, 1, 3, 3, 0, 5, 1, 1, 2, 3, 0, 0, 9, 9, 9, 9].map(Fr::from).to_vec();
        let (a, s) = permute_lookup("t", &input, &table, usable, &mut rng).expect("inputs are in the table");
        for row in 0..usable {
            assert!(a[row] == s[row] || (row > 0 && a[row] == a[row - 1]), "row {row}");
        }
        let mut sorted_in = input[..usable].to_vec();
        let mut sorted_a = a[..usable].to_vec();
        sorted_in.sort();
        sorted_a.sort();
        assert_eq!(sorted_in, sorted_a, "A' is a permutation of the inputs");
        let mut sorted_t = table[..usable].to_vec();
        let mut sorted_s = s[..usable].to_vec();
        sorted_t.sort();
        sorted_s.sort();
        assert_eq!(sorted_t, sorted_s, "S' is a permutation of the table");
    }

    #[test]
    fn a_value_outside_the_table_is_an_error_naming_the_lookup() {
        let mut rng = StdRng::seed_from_u64(6);
        let table: Vec<Fr> = (0..8u64).map(|i| Fr::from(i % 3)).collect();
        let mut input = vec![Fr::from(1); 8];
        input[4] = Fr::from(7);
        let err = permute_lookup("range", &input, &table, 6, &mut rng).expect_err("7 is not in the table");
        assert!(err.to_string().contains("\"range\"") && err.to_string().contains("row 4"), "{err}");
    }

    #[test]
    fn the_lookup_product_closes_on_the_last_usable_row() {
        let mut rng = StdRng::seed_from_u64(7);
        let n = 16;
        let blinding = 3;
        let usable = n - blinding - 1;
        let table: Vec<Fr> = (0..n as u64).map(|i| Fr::from(i % 5)).collect();
        let input: Vec<Fr> = (0..n as u64).map(|i| Fr::from((i * 7) % 5)).collect();
        let (a, s) = permute_lookup("t", &input, &table, usable, &mut rng).expect("in table");
        let (beta, gamma) = (Fr::from(11), Fr::from(13));
        let z = lookup_product(&input, &table, &a, &s, beta, gamma, blinding, &mut rng);
        assert_eq!(z.len(), n);
        assert_eq!(z[0], Fr::ONE);
        assert_eq!(z[usable], Fr::ONE, "the product over the usable rows is one");
    }
}
