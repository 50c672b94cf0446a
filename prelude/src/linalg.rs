//! Linear algebra on ndarray matrices, named and shaped as in `numpy.linalg`:
//! `linalg::solve(&a, &b)?`, `let (u, s, vt) = linalg::svd(&a)?;`.
//!
//! Computed by faer: pure Rust (no system BLAS/LAPACK to install), parallel, and as fast as
//! OpenBLAS at these sizes. Arrays are handed to faer as views, without copying.

use std::fmt;

use faer::linalg::solvers::{DenseSolveCore, Solve};
use faer::{MatRef, Side};
use ndarray::{Array1, Array2, ArrayBase, ArrayView2, Axis, Data, Dimension, Ix2};

/// The complex numbers `eig` returns (`num_complex::Complex<f64>`).
pub use faer::c64;

/// Why a linear algebra routine could not answer.
#[derive(Debug, Clone, PartialEq)]
pub enum LinalgError {
    NotSquare { rows: usize, cols: usize },
    ShapeMismatch(String),
    Singular,
    NotPositiveDefinite,
    NoConvergence(&'static str),
}

impl fmt::Display for LinalgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinalgError::NotSquare { rows, cols } => {
                write!(f, "expected a square matrix, got shape ({rows}, {cols})")
            }
            LinalgError::ShapeMismatch(what) => write!(f, "shapes do not match: {what}"),
            LinalgError::Singular => write!(f, "singular matrix"),
            LinalgError::NotPositiveDefinite => write!(f, "matrix is not positive definite"),
            LinalgError::NoConvergence(what) => write!(f, "{what} did not converge"),
        }
    }
}

impl std::error::Error for LinalgError {}

pub type Result<T> = std::result::Result<T, LinalgError>;

/// `a @ b`, parallel over all cores (ndarray's `.dot()` uses one).
pub fn matmul<S: Data<Elem = f64>, T: Data<Elem = f64>>(
    a: &ArrayBase<S, Ix2>,
    b: &ArrayBase<T, Ix2>,
) -> Result<Array2<f64>> {
    matmul_views(a.view(), b.view())
}

// Each public function is a generic shell over a non-generic one that does the work: generic
// code is compiled in the calling cell, at the cells' low opt-level, while these are compiled
// here, optimised (measured: an SVD 60x slower otherwise).

fn matmul_views(a: ArrayView2<'_, f64>, b: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
    if a.ncols() != b.nrows() {
        return Err(LinalgError::ShapeMismatch(format!(
            "({}, {}) @ ({}, {})",
            a.nrows(),
            a.ncols(),
            b.nrows(),
            b.ncols()
        )));
    }
    let product = faer_view(&a) * faer_view(&b);
    Ok(to_array(product.as_ref()))
}

/// Solves `a x = b` for square `a`; `b` is a vector or a matrix of right-hand sides.
pub fn solve<S: Data<Elem = f64>, T: Data<Elem = f64>, D: Dimension>(
    a: &ArrayBase<S, Ix2>,
    b: &ArrayBase<T, D>,
) -> Result<ndarray::Array<f64, D>> {
    let rhs = columns(b, a.nrows())?;
    from_columns(solve_views(a.view(), rhs.view())?, b.raw_dim())
}

fn solve_views(a: ArrayView2<'_, f64>, rhs: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
    let lu = faer_view(square(&a)?).partial_piv_lu();
    if lu
        .U()
        .diagonal()
        .column_vector()
        .iter()
        .any(|&pivot| pivot == 0.0)
    {
        return Err(LinalgError::Singular);
    }
    Ok(to_array(lu.solve(faer_view(&rhs)).as_ref()))
}

/// The inverse of a square matrix.
pub fn inv<S: Data<Elem = f64>>(a: &ArrayBase<S, Ix2>) -> Result<Array2<f64>> {
    inv_view(a.view())
}

fn inv_view(a: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
    let lu = faer_view(square(&a)?).partial_piv_lu();
    if lu
        .U()
        .diagonal()
        .column_vector()
        .iter()
        .any(|&pivot| pivot == 0.0)
    {
        return Err(LinalgError::Singular);
    }
    Ok(to_array(lu.inverse().as_ref()))
}

/// The determinant of a square matrix.
pub fn det<S: Data<Elem = f64>>(a: &ArrayBase<S, Ix2>) -> Result<f64> {
    det_view(a.view())
}

fn det_view(a: ArrayView2<'_, f64>) -> Result<f64> {
    Ok(faer_view(square(&a)?).determinant())
}

/// The reduced SVD `a = u · diag(s) · vt`, singular values in decreasing order
/// (`numpy.linalg.svd(a, full_matrices=False)`).
pub fn svd<S: Data<Elem = f64>>(
    a: &ArrayBase<S, Ix2>,
) -> Result<(Array2<f64>, Array1<f64>, Array2<f64>)> {
    svd_view(a.view())
}

fn svd_view(a: ArrayView2<'_, f64>) -> Result<(Array2<f64>, Array1<f64>, Array2<f64>)> {
    let svd = faer_view(&a)
        .thin_svd()
        .map_err(|_| LinalgError::NoConvergence("SVD"))?;
    let s = svd.S().column_vector().iter().copied().collect();
    Ok((to_array(svd.U()), s, to_array(svd.V().transpose())))
}

/// Eigenvalues (increasing) and eigenvectors (columns) of a symmetric matrix; only its lower
/// triangle is read, as `numpy.linalg.eigh` does.
pub fn eigh<S: Data<Elem = f64>>(a: &ArrayBase<S, Ix2>) -> Result<(Array1<f64>, Array2<f64>)> {
    eigh_view(a.view())
}

fn eigh_view(a: ArrayView2<'_, f64>) -> Result<(Array1<f64>, Array2<f64>)> {
    let eigen = faer_view(square(&a)?)
        .self_adjoint_eigen(Side::Lower)
        .map_err(|_| LinalgError::NoConvergence("symmetric eigendecomposition"))?;
    let w = eigen.S().column_vector().iter().copied().collect();
    Ok((w, to_array(eigen.U())))
}

/// Eigenvalues and eigenvectors (columns) of a general square matrix, complex in general.
pub fn eig<S: Data<Elem = f64>>(a: &ArrayBase<S, Ix2>) -> Result<(Array1<c64>, Array2<c64>)> {
    eig_view(a.view())
}

fn eig_view(a: ArrayView2<'_, f64>) -> Result<(Array1<c64>, Array2<c64>)> {
    let eigen = faer_view(square(&a)?)
        .eigen()
        .map_err(|_| LinalgError::NoConvergence("eigendecomposition"))?;
    let w = eigen.S().column_vector().iter().copied().collect();
    Ok((w, to_array(eigen.U())))
}

/// The reduced QR decomposition `a = q · r` (`numpy.linalg.qr(a)`).
pub fn qr<S: Data<Elem = f64>>(a: &ArrayBase<S, Ix2>) -> Result<(Array2<f64>, Array2<f64>)> {
    qr_view(a.view())
}

fn qr_view(a: ArrayView2<'_, f64>) -> Result<(Array2<f64>, Array2<f64>)> {
    let qr = faer_view(&a).qr();
    Ok((
        to_array(qr.compute_thin_Q().as_ref()),
        to_array(qr.thin_R()),
    ))
}

/// The lower-triangular Cholesky factor `l` with `a = l · lᵀ` of a symmetric positive
/// definite matrix.
pub fn cholesky<S: Data<Elem = f64>>(a: &ArrayBase<S, Ix2>) -> Result<Array2<f64>> {
    cholesky_view(a.view())
}

fn cholesky_view(a: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
    let llt = faer_view(square(&a)?)
        .llt(Side::Lower)
        .map_err(|_| LinalgError::NotPositiveDefinite)?;
    Ok(to_array(llt.L()))
}

/// The 2-norm of a vector, the Frobenius norm of a matrix (`numpy.linalg.norm(a)`).
pub fn norm<S: Data<Elem = f64>, D: Dimension>(a: &ArrayBase<S, D>) -> f64 {
    a.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// A matrix norm, as `numpy.linalg.norm(a, ord)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Norm {
    /// `ord='fro'`: the square root of the sum of squares, what [`norm`] gives.
    Fro,
    /// `ord='nuc'`: the sum of the singular values.
    Nuc,
    /// `ord=1`: the largest sum of absolute values of a column.
    One,
    /// `ord=2`: the largest singular value.
    Two,
    /// `ord=inf`: the largest sum of absolute values of a row.
    Inf,
}

/// The matrix norm `ord` of `a`: `linalg::matrix_norm(&a, Norm::Two)?`.
pub fn matrix_norm<S: Data<Elem = f64>>(a: &ArrayBase<S, Ix2>, ord: Norm) -> Result<f64> {
    matrix_norm_view(a.view(), ord)
}

fn matrix_norm_view(a: ArrayView2<'_, f64>, ord: Norm) -> Result<f64> {
    let largest_abs_sum = |axis: usize| {
        a.map_axis(Axis(axis), |line| line.iter().map(|x| x.abs()).sum::<f64>())
            .fold(0.0, |most: f64, &sum| most.max(sum))
    };
    let singular_values = || {
        faer_view(&a)
            .singular_values()
            .map_err(|_| LinalgError::NoConvergence("SVD"))
    };
    Ok(match ord {
        Norm::Fro => norm(&a),
        Norm::Nuc => singular_values()?.iter().sum(),
        Norm::Two => singular_values()?.first().copied().unwrap_or(0.0),
        Norm::One => largest_abs_sum(0),
        Norm::Inf => largest_abs_sum(1),
    })
}

/// The Moore-Penrose pseudo-inverse, through the SVD; singular values below
/// `1e-15 · max(s)` count as zero, as in `numpy.linalg.pinv`.
pub fn pinv<S: Data<Elem = f64>>(a: &ArrayBase<S, Ix2>) -> Result<Array2<f64>> {
    pinv_view(a.view(), 1e-15)
}

/// The least-squares solution of `a x ≈ b` with the smallest norm, as
/// `numpy.linalg.lstsq(a, b)[0]`; `b` is a vector or a matrix of right-hand sides.
pub fn lstsq<S: Data<Elem = f64>, T: Data<Elem = f64>, D: Dimension>(
    a: &ArrayBase<S, Ix2>,
    b: &ArrayBase<T, D>,
) -> Result<ndarray::Array<f64, D>> {
    let rhs = columns(b, a.nrows())?;
    let cutoff = f64::EPSILON * a.nrows().max(a.ncols()) as f64;
    let x = matmul_views(pinv_view(a.view(), cutoff)?.view(), rhs.view())?;
    from_columns(x, b.raw_dim())
}

fn pinv_view(a: ArrayView2<'_, f64>, rcond: f64) -> Result<Array2<f64>> {
    let (u, s, vt) = svd_view(a)?;
    let cutoff = rcond * s.iter().copied().fold(0.0, f64::max);
    let inverse_s = s.mapv(|x| if x > cutoff { 1.0 / x } else { 0.0 });
    // v · diag(1/s) · uᵀ
    let scaled_v = &vt.t() * &inverse_s;
    matmul_views(scaled_v.view(), u.t())
}

fn square<'a>(a: &'a ArrayView2<'_, f64>) -> Result<&'a ArrayView2<'a, f64>> {
    match a.dim() {
        (rows, cols) if rows == cols => Ok(a),
        (rows, cols) => Err(LinalgError::NotSquare { rows, cols }),
    }
}

/// A right-hand side (vector or matrix) as a matrix of columns, checked against `rows`.
fn columns<T: Data<Elem = f64>, D: Dimension>(
    b: &ArrayBase<T, D>,
    rows: usize,
) -> Result<Array2<f64>> {
    let shape = b.shape();
    let matrix = match shape {
        [n] => b
            .iter()
            .copied()
            .collect::<Array1<f64>>()
            .into_shape_with_order((*n, 1))
            .ok(),
        [_, _] => b
            .view()
            .into_dimensionality::<Ix2>()
            .ok()
            .map(|view| view.to_owned()),
        _ => None,
    };
    match matrix {
        Some(matrix) if matrix.nrows() == rows => Ok(matrix),
        _ => Err(LinalgError::ShapeMismatch(format!(
            "a matrix with {rows} rows and a right-hand side of shape {shape:?}"
        ))),
    }
}

fn from_columns<D: Dimension>(x: Array2<f64>, dim: D) -> Result<ndarray::Array<f64, D>> {
    let mut dim = dim;
    dim[0] = x.nrows();
    x.into_shape_with_order(dim)
        .map_err(|err| LinalgError::ShapeMismatch(err.to_string()))
}

/// A faer view of an ndarray matrix: same memory, any strides.
fn faer_view<'a>(a: &'a ArrayView2<'_, f64>) -> MatRef<'a, f64> {
    let (rows, cols) = a.dim();
    let strides = a.strides();
    // SAFETY: an ndarray view guarantees that `as_ptr()` with its strides addresses
    // rows × cols valid elements for as long as it is borrowed, which bounds the view's life.
    unsafe { MatRef::from_raw_parts(a.as_ptr(), rows, cols, strides[0], strides[1]) }
}

fn to_array<T: Copy>(m: MatRef<'_, T>) -> Array2<T> {
    Array2::from_shape_fn((m.nrows(), m.ncols()), |(i, j)| m[(i, j)])
}
