//! Operations burn-ndarray makes slow, done directly on its arrays: the
//! networks' `tanh` and linear layers (one fused operation each, forward and
//! backward) and reading a weight matrix back to the host (for the `g_φ`
//! projection).
//!
//! ## `tanh`
//!
//! Why not `burn::tensor::activation::tanh`: burn-ndarray 0.18 evaluates
//! every f32 `tanh` through f64 libm (≈ 15 ns an element here), and
//! burn-autodiff's backward evaluates it a second time from the saved input
//! and then runs four more element-wise tensor operations for `1 − y²`.
//! With four 128-wide tanh MLPs that was a third of a training update
//! (`perf`, reference configuration). Here the forward pass is one in-place
//! sweep of [`tanh_f32`] (≈ 2.4 ns an element, vectorised; ≤ 1.34 ulp)
//! whose output is kept for the backward pass, and the backward pass is one
//! in-place sweep of `g·(1 − y²)`.
//!
//! Nothing verified depends on this: the verifier bounds the exported
//! weights with the exact `tanh` (1-Lipschitz, odd, bounded by 1), whatever
//! the trainer computed with.
//!
//! ## Linear layers
//!
//! burn's `Linear` is a matrix product and a broadcast bias addition; in the
//! backward pass burn-ndarray copies each transposed operand element by
//! element into row-major order before multiplying, and reduces the bias
//! gradient through a generic broadcast. [`linear`] is one operation: the
//! forward pass writes `x W + b` in one product, the backward pass
//! multiplies the transposed views directly (matrixmultiply takes any
//! strides) and skips the input gradient when the input is data.
//!
//! ## Host reads
//!
//! `Tensor::to_data` on burn-ndarray walks a dynamic-rank array element by
//! element (≈ 10 ns each); the projection read `g_φ`'s three weight matrices
//! after every gradient step that way, ≈ 8 % of an ESAI update. A
//! standard-layout array is one `memcpy`.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{unary, Backward, Ops, OpsKind};
use burn::backend::autodiff::Autodiff;
use burn::backend::ndarray::{
    FloatNdArrayElement, IntNdArrayElement, NdArray, NdArrayTensor, NdArrayTensorFloat,
    QuantElement,
};
use burn::nn::Linear;
use burn::tensor::backend::Backend;
use burn::tensor::ops::FloatTensor;
use burn::tensor::{Tensor, TensorPrimitive};

/// A backend with a fused `tanh` (and its derivative) and a fast host read.
pub trait FastOps: Backend {
    /// `tanh`, element-wise.
    fn fused_tanh(x: FloatTensor<Self>) -> FloatTensor<Self>;
    /// `grad · (1 − y²)` for `y = tanh(x)`: the input gradient of `tanh`.
    fn fused_tanh_backward(y: FloatTensor<Self>, grad: FloatTensor<Self>) -> FloatTensor<Self>;
    /// The elements in row-major order, as f32.
    fn to_f32_vec(x: &FloatTensor<Self>) -> Vec<f32>;
    /// `x W + b` for `x: [m, in]`, `W: [in, out]`, `b: [out]`.
    fn fused_linear(
        x: FloatTensor<Self>,
        w: FloatTensor<Self>,
        b: FloatTensor<Self>,
    ) -> FloatTensor<Self>;
    /// The gradients `(g Wᵀ, xᵀ g, Σ_rows g)` of [`FastOps::fused_linear`]
    /// for the output gradient `g`, each only where `need` asks for it.
    fn fused_linear_backward(
        x: FloatTensor<Self>,
        w: FloatTensor<Self>,
        g: FloatTensor<Self>,
        need: [bool; 3],
    ) -> [Option<FloatTensor<Self>>; 3];
}

/// A linear layer's forward pass `x W + b` as one differentiable operation
/// (burn's own forward when the layer has no bias).
pub fn linear<B: FastOps>(layer: &Linear<B>, x: Tensor<B, 2>) -> Tensor<B, 2> {
    let Some(bias) = &layer.bias else {
        return layer.forward(x);
    };
    let prim = |t: Tensor<B, 2>| t.into_primitive().tensor();
    let out = B::fused_linear(
        prim(x),
        prim(layer.weight.val()),
        bias.val().into_primitive().tensor(),
    );
    Tensor::from_primitive(TensorPrimitive::Float(out))
}

/// `tanh` of a tensor, differentiable on autodiff backends.
pub fn tanh<B: FastOps, const D: usize>(x: Tensor<B, D>) -> Tensor<B, D> {
    let x = x.into_primitive().tensor();
    Tensor::from_primitive(TensorPrimitive::Float(B::fused_tanh(x)))
}

/// A tensor's elements in row-major order, as f32 (what
/// `to_data().into_vec()` returns, without its element-wise walk).
pub fn to_f32_vec<B: FastOps, const D: usize>(x: &Tensor<B, D>) -> Vec<f32> {
    match x.clone().into_primitive() {
        TensorPrimitive::Float(t) => B::to_f32_vec(&t),
        TensorPrimitive::QFloat(_) => x
            .to_data()
            .convert::<f32>()
            .into_vec()
            .expect("f32 after conversion"),
    }
}

/// `tanh` in f32: an odd minimax polynomial below 0.625, `1 − 2/(1 + e^{2a})`
/// above (cancellation there costs < 1 ulp since the result is > 0.55), the
/// argument clamped at 10 (where `tanh` rounds to 1 in f32). NaN stays NaN
/// (the monitor must see it). Only float arithmetic, comparisons and bit
/// casts, so loops over it vectorise. Maximum error 1.34 ulp against f64
/// `tanh` over every f32 in [0, 10] (measured exhaustively when it was
/// written; `tanh_f32_is_accurate` checks every 97th bit pattern).
#[inline]
pub fn tanh_f32(x: f32) -> f32 {
    let a = x.abs();
    // Not `min`: `NaN.min(10.0)` is 10.
    let a = if a > 10.0 { 10.0 } else { a };
    let s = a * a;
    // Relative-error fit on [0, 0.625] (|error| ≤ 4e-9 with these
    // coefficients in exact arithmetic), rounded to f32.
    let small = a
        * (1.0
            + s * (-0.333_332_6
                + s * (0.133_311_29
                    + s * (-0.053_721_19 + s * (0.020_591_384 + s * -0.005_660_43)))));
    let large = 1.0 - 2.0 / (1.0 + exp_f32(2.0 * a));
    let t = if a < 0.625 { small } else { large };
    t.copysign(x)
}

/// `e^y` for `y ∈ [0, 20]` in f32: `2^n · e^r` with `n = round(y/ln 2)`,
/// `r = y − n ln 2` (ln 2 split in two so `n·ln2_hi` is exact), and a
/// degree-7 Taylor polynomial for `e^r`, `|r| ≤ 0.35` (truncation < 2e-8).
#[inline]
fn exp_f32(y: f32) -> f32 {
    // Adding 1.5·2²³ rounds to an integer and leaves it in the low mantissa
    // bits: round() and a saturating cast would not vectorise.
    const SHIFTER: f32 = 12_582_912.0;
    let v = y * std::f32::consts::LOG2_E + SHIFTER;
    let n = v - SHIFTER;
    let ni = (v.to_bits() as i32).wrapping_sub(SHIFTER.to_bits() as i32);
    let r = y - n * 0.693_145_75 - n * 1.428_606_8e-6;
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0
                    + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0 + r / 5040.0))))));
    // n ∈ [0, 29]: a normal power of two (garbage only when y is NaN, and
    // then p is NaN too).
    p * f32::from_bits((ni.wrapping_add(127) as u32) << 23)
}

impl<E: FloatNdArrayElement, I: IntNdArrayElement, Q: QuantElement> FastOps for NdArray<E, I, Q> {
    fn fused_tanh(x: FloatTensor<Self>) -> FloatTensor<Self> {
        match x {
            NdArrayTensorFloat::F32(t) => {
                let mut a = t.array;
                // A plain loop over the contiguous buffer vectorises.
                match a.as_slice_memory_order_mut() {
                    Some(s) => s.iter_mut().for_each(|v| *v = tanh_f32(*v)),
                    None => a.mapv_inplace(tanh_f32),
                }
                NdArrayTensorFloat::F32(NdArrayTensor::new(a))
            }
            NdArrayTensorFloat::F64(t) => {
                NdArrayTensorFloat::F64(NdArrayTensor::new(t.array.mapv_into(f64::tanh)))
            }
        }
    }

    fn fused_tanh_backward(y: FloatTensor<Self>, grad: FloatTensor<Self>) -> FloatTensor<Self> {
        match (y, grad) {
            (NdArrayTensorFloat::F32(y), NdArrayTensorFloat::F32(g)) => {
                NdArrayTensorFloat::F32(NdArrayTensor::new(nd::tanh_backward(&y.array, g.array)))
            }
            (NdArrayTensorFloat::F64(y), NdArrayTensorFloat::F64(g)) => {
                NdArrayTensorFloat::F64(NdArrayTensor::new(nd::tanh_backward(&y.array, g.array)))
            }
            _ => panic!("fused_tanh_backward: output and gradient differ in precision"),
        }
    }

    fn to_f32_vec(x: &FloatTensor<Self>) -> Vec<f32> {
        match x {
            // as_slice: Some only in standard (row-major) layout.
            NdArrayTensorFloat::F32(t) => match t.array.as_slice() {
                Some(s) => s.to_vec(),
                None => t.array.iter().copied().collect(),
            },
            NdArrayTensorFloat::F64(t) => t.array.iter().map(|&v| v as f32).collect(),
        }
    }

    fn fused_linear(
        x: FloatTensor<Self>,
        w: FloatTensor<Self>,
        b: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        match (x, w, b) {
            (
                NdArrayTensorFloat::F32(x),
                NdArrayTensorFloat::F32(w),
                NdArrayTensorFloat::F32(b),
            ) => NdArrayTensorFloat::F32(NdArrayTensor::new(nd::linear(
                &x.array, &w.array, &b.array,
            ))),
            (
                NdArrayTensorFloat::F64(x),
                NdArrayTensorFloat::F64(w),
                NdArrayTensorFloat::F64(b),
            ) => NdArrayTensorFloat::F64(NdArrayTensor::new(nd::linear(
                &x.array, &w.array, &b.array,
            ))),
            _ => panic!("fused_linear: input, weight and bias differ in precision"),
        }
    }

    fn fused_linear_backward(
        x: FloatTensor<Self>,
        w: FloatTensor<Self>,
        g: FloatTensor<Self>,
        need: [bool; 3],
    ) -> [Option<FloatTensor<Self>>; 3] {
        match (x, w, g) {
            (
                NdArrayTensorFloat::F32(x),
                NdArrayTensorFloat::F32(w),
                NdArrayTensorFloat::F32(g),
            ) => nd::linear_backward(&x.array, &w.array, &g.array, need)
                .map(|t| t.map(|a| NdArrayTensorFloat::F32(NdArrayTensor::new(a)))),
            (
                NdArrayTensorFloat::F64(x),
                NdArrayTensorFloat::F64(w),
                NdArrayTensorFloat::F64(g),
            ) => nd::linear_backward(&x.array, &w.array, &g.array, need)
                .map(|t| t.map(|a| NdArrayTensorFloat::F64(NdArrayTensor::new(a)))),
            _ => panic!("fused_linear_backward: operands differ in precision"),
        }
    }
}

/// The element-type-generic bodies of the ndarray operations: the tanh
/// derivative and the linear layer (2-D input and weight, 1-D bias).
mod nd {
    use ndarray::linalg::general_mat_mul;
    use ndarray::{ArcArray, Array2, Axis, Ix1, Ix2, IxDyn, LinalgScalar};

    type Dyn<E> = ArcArray<E, IxDyn>;

    fn two_d<E: Clone>(a: &Dyn<E>) -> ndarray::ArrayView2<'_, E> {
        a.view()
            .into_dimensionality::<Ix2>()
            .expect("linear layers take 2-D operands")
    }

    /// `g · (1 − y²)`, in place in `g`.
    pub fn tanh_backward<E: LinalgScalar>(y: &Dyn<E>, mut g: Dyn<E>) -> Dyn<E> {
        g.zip_mut_with(y, |g, &y| *g = *g * (E::one() - y * y));
        g
    }

    /// `x W + b`: the bias rows first, then one product accumulated onto them.
    pub fn linear<E: LinalgScalar>(x: &Dyn<E>, w: &Dyn<E>, b: &Dyn<E>) -> Dyn<E> {
        let (x, w) = (two_d(x), two_d(w));
        let b = b.view().into_dimensionality::<Ix1>().expect("1-D bias");
        let mut out: Array2<E> = b
            .broadcast((x.nrows(), w.ncols()))
            .expect("bias length = output width")
            .to_owned();
        general_mat_mul(E::one(), &x, &w, E::one(), &mut out);
        out.into_dyn().into_shared()
    }

    /// `(g Wᵀ, xᵀ g, Σ_rows g)` where asked for; transposes are views.
    pub fn linear_backward<E: LinalgScalar>(
        x: &Dyn<E>,
        w: &Dyn<E>,
        g: &Dyn<E>,
        need: [bool; 3],
    ) -> [Option<Dyn<E>>; 3] {
        let (x, w, g) = (two_d(x), two_d(w), two_d(g));
        let gx = need[0].then(|| g.dot(&w.t()).into_dyn().into_shared());
        let gw = need[1].then(|| x.t().dot(&g).into_dyn().into_shared());
        let gb = need[2].then(|| g.sum_axis(Axis(0)).into_dyn().into_shared());
        [gx, gw, gb]
    }
}

/// The backward step: keeps `y = tanh(x)` (compute-bound: saved, never
/// recomputed) and returns `grad · (1 − y²)`.
#[derive(Debug)]
struct TanhBackward;

impl<B: FastOps> Backward<B, 1> for TanhBackward {
    type State = FloatTensor<B>;

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let y = ops.state;
        unary::<B, _>(ops.parents, ops.node, grads, |grad| {
            B::fused_tanh_backward(y, grad)
        });
    }
}

/// The linear layer's backward step: keeps the input and the weight.
#[derive(Debug)]
struct LinearBackward;

impl<B: FastOps> Backward<B, 3> for LinearBackward {
    type State = (FloatTensor<B>, FloatTensor<B>);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let g = grads.consume::<B>(&ops.node);
        let (x, w) = ops.state;
        let need = ops.parents.each_ref().map(Option::is_some);
        let out = B::fused_linear_backward(x, w, g, need);
        for (parent, grad) in ops.parents.into_iter().zip(out) {
            if let (Some(node), Some(grad)) = (parent, grad) {
                grads.register::<B>(node.id, grad);
            }
        }
    }
}

impl<B: FastOps, C: CheckpointStrategy> FastOps for Autodiff<B, C> {
    fn fused_tanh(x: FloatTensor<Self>) -> FloatTensor<Self> {
        match TanhBackward
            .prepare::<C>([x.node.clone()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let y = B::fused_tanh(x.primitive);
                prep.finish(y.clone(), y)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::fused_tanh(x.primitive)),
        }
    }

    /// Composed of differentiable operations, so second derivatives stay
    /// correct; the trainer never calls it (it needs first derivatives only).
    fn fused_tanh_backward(y: FloatTensor<Self>, grad: FloatTensor<Self>) -> FloatTensor<Self> {
        let y = Tensor::<Self, 1>::from_primitive(TensorPrimitive::Float(y));
        let g = Tensor::<Self, 1>::from_primitive(TensorPrimitive::Float(grad));
        (g * (y.clone() * y).neg().add_scalar(1.0))
            .into_primitive()
            .tensor()
    }

    fn to_f32_vec(x: &FloatTensor<Self>) -> Vec<f32> {
        B::to_f32_vec(&x.primitive)
    }

    fn fused_linear(
        x: FloatTensor<Self>,
        w: FloatTensor<Self>,
        b: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        match LinearBackward
            .prepare::<C>([x.node.clone(), w.node.clone(), b.node.clone()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let out = B::fused_linear(x.primitive.clone(), w.primitive.clone(), b.primitive);
                prep.finish((x.primitive, w.primitive), out)
            }
            OpsKind::UnTracked(prep) => {
                prep.finish(B::fused_linear(x.primitive, w.primitive, b.primitive))
            }
        }
    }

    /// Composed of differentiable operations (see `fused_tanh_backward`).
    fn fused_linear_backward(
        x: FloatTensor<Self>,
        w: FloatTensor<Self>,
        g: FloatTensor<Self>,
        need: [bool; 3],
    ) -> [Option<FloatTensor<Self>>; 3] {
        let t = |p| Tensor::<Self, 2>::from_primitive(TensorPrimitive::Float(p));
        let (x, w, g) = (t(x), t(w), t(g));
        let width = g.dims()[1];
        let gx = need[0].then(|| g.clone().matmul(w.transpose()));
        let gw = need[1].then(|| x.transpose().matmul(g.clone()));
        let gb = need[2].then(|| g.sum_dim(0).reshape([width]).into_primitive().tensor());
        let prim = |o: Option<Tensor<Self, 2>>| o.map(|t| t.into_primitive().tensor());
        [prim(gx), prim(gw), gb]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::TensorData;

    type Ad = Autodiff<NdArray>;

    #[test]
    fn tanh_f32_is_accurate() {
        // Every 97th f32 bit pattern in [0, 10] (all 1.09e9 take too long
        // for a debug-build test), the odd symmetry, ±∞ and NaN.
        let mut worst = (0.0f64, 0.0f32);
        let mut bits = 0u32;
        loop {
            let x = f32::from_bits(bits);
            if x > 10.0 {
                break;
            }
            let exact = (x as f64).tanh();
            let r = exact as f32;
            let ulp = (r.next_up() - r) as f64;
            let err = (tanh_f32(x) as f64 - exact).abs() / ulp.max(f64::from(f32::MIN_POSITIVE));
            if err > worst.0 {
                worst = (err, x);
            }
            assert_eq!(tanh_f32(-x), -tanh_f32(x), "odd at {x}");
            bits += 97;
        }
        assert!(worst.0 < 1.4, "error {} ulp at x = {}", worst.0, worst.1);
        assert_eq!(tanh_f32(f32::INFINITY), 1.0);
        assert_eq!(tanh_f32(f32::NEG_INFINITY), -1.0);
        assert_eq!(tanh_f32(20.0), 1.0);
        assert_eq!(tanh_f32(10.0), 1.0);
        assert!(tanh_f32(f32::NAN).is_nan());
    }

    #[test]
    fn gradient_matches_burns_tanh() {
        let dev = Default::default();
        let data: Vec<f32> = (0..24).map(|i| (i as f32 - 11.5) * 0.37).collect();
        let grads = |fused: bool| {
            let x = Tensor::<Ad, 2>::from_data(TensorData::new(data.clone(), [4, 6]), &dev)
                .require_grad();
            let w: Vec<f32> = (0..24).map(|i| 0.1 * i as f32 - 1.0).collect();
            let w = Tensor::<Ad, 2>::from_data(TensorData::new(w, [4, 6]), &dev);
            let y = if fused {
                tanh(x.clone())
            } else {
                burn::tensor::activation::tanh(x.clone())
            };
            let out: Vec<f32> = y.clone().into_data().into_vec().unwrap();
            let g = x.grad(&(y * w).sum().backward()).unwrap();
            (out, g.into_data().into_vec::<f32>().unwrap())
        };
        let (y_fused, g_fused) = grads(true);
        let (y_burn, g_burn) = grads(false);
        for (a, b) in y_fused
            .iter()
            .zip(&y_burn)
            .chain(g_fused.iter().zip(&g_burn))
        {
            assert!((a - b).abs() <= 4e-7 * b.abs().max(1e-3), "{a} vs {b}");
        }
        // Not a copy of burn: the gradient is non-trivial and non-zero.
        assert!(g_fused.iter().any(|g| g.abs() > 0.1));
    }

    #[test]
    fn linear_matches_burns_linear_forward_and_backward() {
        use burn::nn::LinearConfig;
        let dev = Default::default();
        let layer = LinearConfig::new(5, 3).init::<Ad>(&dev);
        let xs: Vec<f32> = (0..20).map(|i| ((i * 7) % 11) as f32 * 0.3 - 1.4).collect();
        let ws: Vec<f32> = (0..12).map(|i| ((i * 5) % 7) as f32 * 0.2 - 0.6).collect();
        for input_needs_grad in [true, false] {
            let run = |fused: bool| {
                let x = Tensor::<Ad, 2>::from_data(TensorData::new(xs.clone(), [4, 5]), &dev);
                let x = if input_needs_grad {
                    x.require_grad()
                } else {
                    x
                };
                let y = if fused {
                    linear(&layer, x.clone())
                } else {
                    layer.forward(x.clone())
                };
                let w = Tensor::<Ad, 2>::from_data(TensorData::new(ws.clone(), [4, 3]), &dev);
                let out: Vec<f32> = y.clone().into_data().into_vec().unwrap();
                let grads = (y * w).sum().backward();
                let v = |t: Option<Tensor<NdArray, 2>>| -> Vec<f32> {
                    t.map(|t| t.into_data().into_vec().unwrap())
                        .unwrap_or_default()
                };
                let gx = v(x.grad(&grads));
                let gw = v(layer.weight.val().grad(&grads));
                let gb: Vec<f32> = layer
                    .bias
                    .as_ref()
                    .unwrap()
                    .val()
                    .grad(&grads)
                    .unwrap()
                    .into_data()
                    .into_vec()
                    .unwrap();
                [out, gx, gw, gb]
            };
            let (fused, burn) = (run(true), run(false));
            for (name, (a, b)) in ["output", "dx", "dW", "db"]
                .iter()
                .zip(fused.iter().zip(&burn))
            {
                assert_eq!(a.len(), b.len(), "{name}");
                for (p, q) in a.iter().zip(b) {
                    assert!(
                        (p - q).abs() <= 1e-5 * q.abs().max(1.0),
                        "{name}: {p} vs {q}"
                    );
                }
            }
            assert_eq!(fused[1].is_empty(), !input_needs_grad);
            assert!(fused[2].iter().any(|g| g.abs() > 0.1));
        }
    }

    #[test]
    fn host_read_is_row_major_in_every_layout() {
        let dev = Default::default();
        let data: Vec<f32> = (0..12).map(|i| i as f32 * 0.5 - 2.0).collect();
        let x = Tensor::<Ad, 2>::from_data(TensorData::new(data.clone(), [3, 4]), &dev);
        assert_eq!(to_f32_vec(&x), data);
        // A transposed view is not row-major in memory: the slow path.
        let xt = x.clone().transpose();
        let want: Vec<f32> = xt.to_data().into_vec().unwrap();
        assert_eq!(to_f32_vec(&xt), want);
        assert_ne!(want, data);
        let x64 =
            Tensor::<NdArray<f64>, 2>::from_data(TensorData::new(vec![1.5f64, -2.0], [1, 2]), &dev);
        assert_eq!(to_f32_vec(&x64), vec![1.5f32, -2.0]);
    }

    #[test]
    fn untracked_inputs_take_the_plain_path() {
        let dev = Default::default();
        let x = Tensor::<Ad, 1>::from_data(TensorData::new(vec![-2.0f32, 0.0, 0.5], [3]), &dev);
        let y: Vec<f32> = tanh(x).into_data().into_vec().unwrap();
        assert_eq!(y[1], 0.0);
        assert!((y[0] - (-2.0f32).tanh()).abs() < 1e-7);
        assert!((y[2] - 0.5f32.tanh()).abs() < 1e-7);
    }
}
