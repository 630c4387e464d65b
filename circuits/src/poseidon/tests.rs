//! Known-answer tests: circomlibjs 0.1.7 (`buildPoseidon`) computed every
//! expected value here; the sponge values chain its `poseidon(inputs, initState,
//! nOut)` block by block.

use halo2_axiom::halo2curves::bn256::Fr;
use halo2_axiom::halo2curves::ff::PrimeField;

use super::native::{circom_hash, hash, hash_integers, permute};

fn dec(s: &str) -> Fr {
    Fr::from_str_vartime(s).expect("decimal field element")
}

fn small(values: impl IntoIterator<Item = u64>) -> Vec<Fr> {
    values.into_iter().map(Fr::from).collect()
}

#[test]
fn permutation_matches_circomlib_for_every_width_used() {
    let cases: [(Vec<Fr>, &str); 5] = [
        (small([1, 2]), "7853200120776062878684798364095072458815029376092732009249414926327459813530"),
        (small([0, 0]), "14744269619966411208579211824598458697587494354926760081771325075741142829156"),
        (small(1..=4), "18821383157269793795438455681495246036402687001665670618754263018637548127333"),
        (small(1..=8), "18604317144381847857886385684060986177838410221561136253933256952257712543953"),
        (small(1..=16), "9989051620750914585850546081941653841776809718687451684622678807385399211877"),
    ];
    for (inputs, expected) in cases {
        assert_eq!(circom_hash(&inputs), dec(expected), "Poseidon({})", inputs.len());
    }
}

#[test]
fn whole_permutation_output_matches_circomlib() {
    let mut state = small([0, 1, 2]);
    permute(&mut state);
    let expected = [
        "7853200120776062878684798364095072458815029376092732009249414926327459813530",
        "7142104613055408817911962100316808866448378443474503659992478482890339429929",
        "6549537674122432311777789598043107870002137484850126429160507761192163713804",
    ];
    assert_eq!(state, expected.map(dec).to_vec());
    let mut with_capacity = small([7, 1, 2]);
    permute(&mut with_capacity);
    assert_eq!(with_capacity[0], dec("7540134072963094781551849189553249853827772934652778250146343743716337940736"));
}

#[test]
fn sponge_matches_the_chained_reference() {
    assert_eq!(hash(&[]), dec("1524321216038799095937469147836866648978083754965002674906449126183454401066"));
    assert_eq!(
        hash(&small(1..=3)),
        dec("8547220289439290647933241253678236840064971940792050864684531266629897099424")
    );
    assert_eq!(
        hash(&small(1..=20)),
        dec("1422739809256486290900657514557486953206241702926566275258912493808906421153")
    );
    assert_eq!(
        hash_integers(&[-1, 5, -300, 7, 0, 0, 0, 0, 1]),
        dec("15436694245702951239133289190695427894716953785591341681800622199955258833942")
    );
}

#[test]
fn length_is_bound_into_the_digest() {
    // Zero padding alone would make these collide; the capacity's length does not.
    assert_ne!(hash(&small([1, 2, 3])), hash(&small([1, 2, 3, 0])));
    assert_ne!(hash(&[]), hash(&small([0])));
}

#[test]
fn mds_inverse_is_the_inverse() {
    use halo2_axiom::halo2curves::ff::Field;
    let spec = super::spec::Spec::get(super::WIDTH);
    for i in 0..spec.width {
        for j in 0..spec.width {
            let dot: Fr = (0..spec.width).map(|k| spec.mds[i][k] * spec.mds_inverse[k][j]).sum();
            assert_eq!(dot, if i == j { Fr::ONE } else { Fr::ZERO }, "({i}, {j})");
        }
    }
}

#[test]
fn packing_is_injective_inside_its_window_only() {
    use super::native::{hash_packed, pack, values_per_element};
    assert_eq!(values_per_element(24), Some(8));
    assert_eq!(values_per_element(36), Some(7));
    assert_eq!(values_per_element(127), None);
    let bits = 24;
    let values: Vec<i128> = (0..20).map(|i| (i * 7919 % 4093) as i128 * if i % 3 == 0 { -1 } else { 1 }).collect();
    let packed = pack(&values, bits).unwrap();
    assert_eq!(packed.len(), 3);
    // The lowest slot of the first element holds v_0 (balanced digits).
    let mut bumped = values.clone();
    bumped[0] += 1;
    assert_ne!(pack(&bumped, bits).unwrap()[0], packed[0]);
    // A carry between slots keeps the packing: only a range check stops it.
    let mut carried = values.clone();
    carried[0] += 1 << bits;
    carried[1] -= 1;
    assert!(pack(&carried, bits).is_err(), "outside the window is refused natively");
    let forged: Fr = carried[..8]
        .iter()
        .enumerate()
        .map(|(j, v)| super::super::chips::fe::<Fr>(*v) * super::native::slot_weight(bits, j))
        .sum();
    assert_eq!(forged, packed[0], "the window is what makes packing injective");
    let edge = [-(1i128 << 23), (1 << 23) - 1];
    assert!(pack(&edge, bits).is_ok());
    assert!(pack(&[1 << 23], bits).is_err());
    // Domain separation: slot width and length are bound into the digest.
    let h = hash_packed(&values, bits).unwrap();
    assert_ne!(h, hash_packed(&values, bits + 1).unwrap());
    assert_ne!(h, hash_integers(&values));
    assert_ne!(h, hash_packed(&values[..19], bits).unwrap());
}
