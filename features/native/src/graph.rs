//! Native graph passes of `models.campaigns` over the tie graph between accounts.
//!
//! The scorer re-clusters the ties at every window close: connected
//! components (twice), each account's neighbour medians over three profile
//! dimensions, and the triangle check of sync-only ties. In numpy these were
//! sorts and scatter passes over all ties, about 15 ms a step in all; here
//! they are single passes over an adjacency list. The rules and their reasons
//! are in the `models.campaigns` docstrings.

use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::links::common_sorted;

/// Node index of a tie end, checked against the node count.
fn node(value: i64, n: usize) -> PyResult<usize> {
    usize::try_from(value)
        .ok()
        .filter(|&v| v < n)
        .ok_or_else(|| PyValueError::new_err(format!("node {value} outside 0..{n}")))
}

/// The ties as node pairs, checked.
fn pairs(n: usize, a: &[i64], b: &[i64]) -> PyResult<Vec<(usize, usize)>> {
    if a.len() != b.len() {
        return Err(PyValueError::new_err("tie ends of unequal length"));
    }
    a.iter()
        .zip(b)
        .map(|(&x, &y)| Ok((node(x, n)?, node(y, n)?)))
        .collect()
}

/// Adjacency list of an undirected graph: `start[v]..start[v + 1]` indexes the
/// neighbours of `v` in `next`, in order of tie (both directions).
struct Adjacency {
    start: Vec<usize>,
    next: Vec<usize>,
}

impl Adjacency {
    fn new(n: usize, ties: &[(usize, usize)]) -> Self {
        let mut start = vec![0usize; n + 1];
        for &(x, y) in ties {
            start[x + 1] += 1;
            start[y + 1] += 1;
        }
        for v in 0..n {
            start[v + 1] += start[v];
        }
        let mut fill = start.clone();
        let mut next = vec![0usize; start[n]];
        for &(x, y) in ties {
            next[fill[x]] = y;
            fill[x] += 1;
            next[fill[y]] = x;
            fill[y] += 1;
        }
        Adjacency { start, next }
    }

    fn of(&self, v: usize) -> &[usize] {
        &self.next[self.start[v]..self.start[v + 1]]
    }
}

/// Root of `v`, halving the path on the way.
fn find(parent: &mut [usize], mut v: usize) -> usize {
    while parent[v] != v {
        parent[v] = parent[parent[v]];
        v = parent[v];
    }
    v
}

/// Connected-component label of each node: the smallest node index in its component.
///
/// Union-find whose root is always the smallest node of its set, so the root
/// is the label.
#[pyfunction]
pub fn components<'py>(
    py: Python<'py>,
    n: usize,
    a: PyReadonlyArray1<'py, i64>,
    b: PyReadonlyArray1<'py, i64>,
) -> PyResult<Bound<'py, PyArray1<i64>>> {
    let ties = pairs(n, a.as_slice()?, b.as_slice()?)?;
    let labels = py.detach(|| {
        let mut parent: Vec<usize> = (0..n).collect();
        for (x, y) in ties {
            let (rx, ry) = (find(&mut parent, x), find(&mut parent, y));
            if rx != ry {
                let (low, high) = (rx.min(ry), rx.max(ry));
                parent[high] = low;
            }
        }
        (0..n)
            .map(|v| find(&mut parent, v) as i64)
            .collect::<Vec<_>>()
    });
    Ok(labels.into_pyarray(py))
}

/// Per profile dimension and node, the median of the dimension over the
/// node's neighbours (0 without neighbours), row-major `(dimensions, n)`.
///
/// `values` is `(dimensions, n)`; NaN counts as 0. The median of an even
/// count is the mean of the two middle values.
#[pyfunction]
pub fn neighbour_medians<'py>(
    py: Python<'py>,
    a: PyReadonlyArray1<'py, i64>,
    b: PyReadonlyArray1<'py, i64>,
    values: PyReadonlyArray2<'py, f64>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let shape = values.shape();
    let (dimensions, n) = (shape[0], shape[1]);
    let values = values.as_slice()?;
    let ties = pairs(n, a.as_slice()?, b.as_slice()?)?;
    let out = py.detach(|| {
        let adjacency = Adjacency::new(n, &ties);
        let mut out = vec![0.0f64; dimensions * n];
        let mut around: Vec<f64> = Vec::new();
        for d in 0..dimensions {
            let row = &values[d * n..(d + 1) * n];
            for v in 0..n {
                let neighbours = adjacency.of(v);
                if neighbours.is_empty() {
                    continue;
                }
                around.clear();
                around.extend(neighbours.iter().map(|&u| {
                    let x = row[u];
                    if x.is_nan() {
                        0.0
                    } else {
                        x
                    }
                }));
                // the upper middle by selection, the lower one the largest below it
                let k = around.len();
                let (below, &mut high, _) = around.select_nth_unstable_by(k / 2, f64::total_cmp);
                let low = if k % 2 == 1 {
                    high
                } else {
                    below.iter().copied().fold(f64::NEG_INFINITY, f64::max)
                };
                out[d * n + v] = 0.5 * (low + high);
            }
        }
        out
    });
    Ok(out.into_pyarray(py))
}

/// Whether the two ends of each queried tie have a common neighbour.
///
/// The graph is the ties `a`-`b` between `n` nodes; `query` indexes the ties
/// to check.
#[pyfunction]
pub fn closes_triangle<'py>(
    py: Python<'py>,
    n: usize,
    a: PyReadonlyArray1<'py, i64>,
    b: PyReadonlyArray1<'py, i64>,
    query: PyReadonlyArray1<'py, i64>,
) -> PyResult<Bound<'py, PyArray1<bool>>> {
    let ties = pairs(n, a.as_slice()?, b.as_slice()?)?;
    let query = query
        .as_slice()?
        .iter()
        .map(|&i| node(i, ties.len()))
        .collect::<PyResult<Vec<_>>>()?;
    let found = py.detach(|| {
        let mut adjacency = Adjacency::new(n, &ties);
        for v in 0..n {
            let (from, to) = (adjacency.start[v], adjacency.start[v + 1]);
            adjacency.next[from..to].sort_unstable();
        }
        query
            .iter()
            .map(|&i| {
                let (x, y) = ties[i];
                common_sorted(adjacency.of(x), adjacency.of(y))
                    .next()
                    .is_some()
            })
            .collect::<Vec<_>>()
    });
    Ok(found.into_pyarray(py))
}
