//! Tensor helpers: batching, typed access, dtype names.

use parity_core::onnx::proto::TensorProto;
use parity_core::tensor::f16;
use parity_core::tensor_proto;
use parity_core::{DType, Tensor, TensorData};
use prost::Message;

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
    for d in DType::ALL {
        assert_eq!(DType::from_name(d.name()), Some(d));
        assert_eq!(d.to_string(), d.name());
    }
    assert_eq!(DType::from_name("float16"), Some(DType::F16));
    assert_eq!(DType::from_name("bfloat16"), None);
    assert_eq!(TensorData::from(vec![1u8, 2]).dtype(), DType::U8);
    assert_eq!(TensorData::from(vec![f64::NAN, 0.0]).first_nan(), Some(0));
    assert_eq!(TensorData::from(vec![1i64]).first_nan(), None);
}

/// float16 values whose bits IEEE 754 fixes: 1.0, -2.0, 0.5, 65504 (the largest), NaN.
fn halves() -> (Vec<u16>, Tensor) {
    let bits = vec![0x3C00, 0xC000, 0x3800, 0x7BFF, 0x7E00];
    let values = bits.iter().map(|&b| f16::from_bits(b)).collect();
    (bits, Tensor::from_f16(vec![5], values).unwrap())
}

#[test]
fn float16_goes_through_npy_and_tensor_proto_bit_for_bit() {
    let (bits, t) = halves();
    let data = t.data();
    assert_eq!(data.to_f64_vec()[..4], [1.0, -2.0, 0.5, 65504.0]);
    assert_eq!((data.first_nan(), data.count_nan()), (Some(4), 1));
    let npy = parity_core::npy::encode(&t).unwrap();
    assert!(String::from_utf8_lossy(&npy[..64]).contains("'<f2'"), "numpy's float16 descr");
    let back = parity_core::npy::decode(&npy).unwrap();
    let back_bits: Vec<u16> = back.as_f16().unwrap().iter().map(|x| x.to_bits()).collect();
    assert_eq!(back_bits, bits);
    let (_, raw) = tensor_proto::decode(&tensor_proto::encode(None, &t)).unwrap();
    assert_eq!(raw.as_f16().unwrap().iter().map(|x| x.to_bits()).collect::<Vec<_>>(), bits);
    // ONNX keeps typed float16 data as each value's bits in an int32.
    let typed = TensorProto {
        dims: vec![5],
        data_type: Some(10),
        int32_data: bits.iter().map(|&b| i32::from(b)).collect(),
        ..Default::default()
    };
    let (_, typed) = tensor_proto::decode(&typed.encode_to_vec()).unwrap();
    assert_eq!(typed.as_f16().unwrap().iter().map(|x| x.to_bits()).collect::<Vec<_>>(), bits);
    let out_of_range = TensorProto { int32_data: vec![70_000], dims: vec![1], ..typed_proto() };
    let e = tensor_proto::decode(&out_of_range.encode_to_vec()).unwrap_err();
    assert_eq!(e, "float16 bits 70000 out of range");
}

fn typed_proto() -> TensorProto {
    TensorProto { data_type: Some(10), ..Default::default() }
}

#[test]
fn float16_widens_exactly_and_float32_past_its_range_is_not_representable_in_float16() {
    let t = Tensor::from_f64(vec![2], vec![1.0, 70000.0]).unwrap();
    assert_eq!(t.data().first_unrepresentable(DType::F16), Some((1, "70000".to_string())));
    assert_eq!(DType::F16.size(), 2);
    assert!(DType::F16.is_float());
}
