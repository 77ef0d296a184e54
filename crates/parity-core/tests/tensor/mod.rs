//! Tensor helpers: batching, typed access, dtype names.

use parity_core::{DType, Tensor, TensorData};

#[test]
fn concat0_and_split0_are_inverse() {
    let a = Tensor::from_f32(vec![1, 2], vec![1.0, 2.0]).unwrap();
    let b = Tensor::from_f32(vec![2, 2], vec![3.0, 4.0, 5.0, 6.0]).unwrap();
    let ab = Tensor::concat0(&[a.clone(), b]).unwrap();
    assert_eq!(ab, Tensor::from_f32(vec![3, 2], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap());
    let rows = ab.split0().unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0], a);
    assert_eq!(rows[2], Tensor::from_f32(vec![1, 2], vec![5.0, 6.0]).unwrap());
    assert_eq!(Tensor::concat0(&rows).unwrap(), ab);
}

#[test]
fn split_rows_gives_each_part_its_rows() {
    let t = Tensor::from_f32(vec![4, 2], (0..8).map(|v| v as f32).collect()).unwrap();
    let parts = t.split_rows(&[1, 3]).unwrap();
    assert_eq!(parts[0], Tensor::from_f32(vec![1, 2], vec![0.0, 1.0]).unwrap());
    assert_eq!(parts[1], Tensor::from_f32(vec![3, 2], vec![2.0, 3.0, 4.0, 5.0, 6.0, 7.0]).unwrap());
    assert_eq!(Tensor::concat0(&parts).unwrap(), t);
    let e = t.split_rows(&[1, 2]).unwrap_err().to_string();
    assert_eq!(e, "cannot split 4 rows into parts of [1, 2]");
}

#[test]
fn concat0_rejects_mismatches() {
    let a = Tensor::from_f32(vec![1, 2], vec![1.0, 2.0]).unwrap();
    let wide = Tensor::from_f32(vec![1, 3], vec![0.0; 3]).unwrap();
    let ints = Tensor::from_i64(vec![1, 2], vec![1, 2]).unwrap();
    let e = Tensor::concat0(&[a.clone(), wide]).unwrap_err().to_string();
    assert_eq!(e, "cannot concatenate shape [1, 3] (part 1) with [1, 2] along axis 0");
    let e = Tensor::concat0(&[a, ints]).unwrap_err().to_string();
    assert_eq!(e, "cannot concatenate int64 (part 1) with float32");
    assert!(Tensor::concat0::<Tensor>(&[]).is_err());
    assert!(Tensor::concat0(&[Tensor::scalar_f32(1.0)]).is_err());
    assert!(Tensor::scalar_f32(1.0).split0().is_err());
}

#[test]
fn typed_constructors_check_the_shape() {
    assert_eq!(
        Tensor::from_u8(vec![2, 2], vec![1, 2, 3]).unwrap_err().to_string(),
        "shape [2, 2] needs 4 elements, got 3"
    );
    let t = Tensor::from_bool(vec![2], vec![true, false]).unwrap();
    assert_eq!((t.as_bool(), t.as_f32(), t.len()), (Some(&[true, false][..]), None, 2));
    assert_eq!(t.data().to_f64_vec(), [1.0, 0.0]);
    let r = Tensor::from_i32(vec![2, 3], (0..6).collect()).unwrap().reshape(vec![3, 2]).unwrap();
    assert_eq!((r.shape(), r.unravel(5)), (&[3, 2][..], vec![2, 1]));
    assert!(r.reshape(vec![4]).is_err());
    assert_eq!(Tensor::scalar_f32(2.0).unravel(0), Vec::<usize>::new());
}

#[test]
fn dtype_names_round_trip() {
    for d in [DType::F32, DType::F64, DType::I64, DType::I32, DType::U8, DType::Bool] {
        assert_eq!(DType::from_name(d.name()), Some(d));
        assert_eq!(d.to_string(), d.name());
    }
    assert_eq!(DType::from_name("float16"), None);
    assert_eq!(TensorData::from(vec![1u8, 2]).dtype(), DType::U8);
    assert_eq!(TensorData::from(vec![f64::NAN, 0.0]).first_nan(), Some(0));
    assert_eq!(TensorData::from(vec![1i64]).first_nan(), None);
}
