//! Native pairing of `features.links`: accounts that share a value, as weighted edges.
//!
//! The Python side groups the observations (one per value and account), drops
//! values of one account or of too many, and orders each value's accounts by a
//! hash of value and account; this module walks the value groups, pairs the
//! accounts (every pair up to `max_clique` accounts, else each account with
//! the `ring` after it), and combines each pair's shared values of a kind into
//! one edge. The rules and their reasons are in the `features.links`
//! docstring; here are only the loops, which in polars took a self-join, a
//! gather and a group-by over millions of pair rows.

use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// One (value, pair) row before combination: edge key, ln(1 - value weight), times.
struct PairRow {
    key: u64,
    miss: f64,
    first: i64,
    last: i64,
}

type Edges<'py> = (
    Bound<'py, PyArray1<u64>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<u32>>,
);

/// Edges of the accounts sharing a value, sorted by edge key.
///
/// Inputs, one row per (value, account), the rows of a value contiguous and
/// in their pairing order: `value`, its link `kind` code, the `account` code
/// and when the account first and `last` showed it (microseconds). The edge
/// key is `kind << 2 * code_bits | a << code_bits | b` with `a < b`.
/// Returns, per edge: key, weight (noisy-OR of `1 / log2(k)` capped at 1 over
/// its shared values, `k` the value's accounts), first seen (earliest moment
/// both accounts had shown a shared value), last seen and number of shared
/// values.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
pub fn shared_value_edges<'py>(
    py: Python<'py>,
    value: PyReadonlyArray1<'py, u64>,
    kind: PyReadonlyArray1<'py, u8>,
    account: PyReadonlyArray1<'py, u32>,
    first: PyReadonlyArray1<'py, i64>,
    last: PyReadonlyArray1<'py, i64>,
    max_clique: usize,
    ring: usize,
    code_bits: u32,
) -> PyResult<Edges<'py>> {
    let (value, kind, account) = (value.as_slice()?, kind.as_slice()?, account.as_slice()?);
    let (first, last) = (first.as_slice()?, last.as_slice()?);
    let n = value.len();
    if [kind.len(), account.len(), first.len(), last.len()]
        .iter()
        .any(|&m| m != n)
    {
        return Err(PyValueError::new_err("columns of unequal length"));
    }
    let (keys, weights, firsts, lasts, counts) = py.detach(|| {
        let rows = pair_rows(
            value, kind, account, first, last, max_clique, ring, code_bits,
        );
        combine(rows)
    });
    Ok((
        keys.into_pyarray(py),
        weights.into_pyarray(py),
        firsts.into_pyarray(py),
        lasts.into_pyarray(py),
        counts.into_pyarray(py),
    ))
}

#[allow(clippy::too_many_arguments)]
fn pair_rows(
    value: &[u64],
    kind: &[u8],
    account: &[u32],
    first: &[i64],
    last: &[i64],
    max_clique: usize,
    ring: usize,
    code_bits: u32,
) -> Vec<PairRow> {
    let mut rows = Vec::new();
    let mut start = 0;
    while start < value.len() {
        let mut end = start + 1;
        while end < value.len() && value[end] == value[start] {
            end += 1;
        }
        let k = end - start;
        let weight = (1.0 / (k as f64).log2()).min(1.0);
        let miss = (-weight).ln_1p();
        for i in start..end {
            let stop = if k <= max_clique {
                end
            } else {
                (i + 1 + ring).min(end)
            };
            for j in i + 1..stop {
                if account[i] == account[j] {
                    continue; // one account listed twice under a value: no pair
                }
                let (a, b) = if account[i] < account[j] {
                    (account[i], account[j])
                } else {
                    (account[j], account[i])
                };
                rows.push(PairRow {
                    key: (kind[i] as u64) << (2 * code_bits) | (a as u64) << code_bits | b as u64,
                    miss,
                    first: first[i].max(first[j]),
                    last: last[i].max(last[j]),
                });
            }
        }
        start = end;
    }
    rows
}

fn combine(mut rows: Vec<PairRow>) -> (Vec<u64>, Vec<f64>, Vec<i64>, Vec<i64>, Vec<u32>) {
    // Stable, so that a pair's values are summed in input order: the same
    // input always gives the same bits.
    rows.sort_by_key(|row| row.key);
    let (mut keys, mut weights, mut firsts, mut lasts, mut counts) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut i = 0;
    while i < rows.len() {
        let key = rows[i].key;
        let (mut miss, mut first, mut last, mut count) = (0.0, i64::MAX, i64::MIN, 0u32);
        while i < rows.len() && rows[i].key == key {
            miss += rows[i].miss;
            first = first.min(rows[i].first);
            last = last.max(rows[i].last);
            count += 1;
            i += 1;
        }
        keys.push(key);
        weights.push(1.0 - miss.exp());
        firsts.push(first);
        lasts.push(last);
        counts.push(count);
    }
    (keys, weights, firsts, lasts, counts)
}

/// Shared bins of each candidate pair of synchronised accounts: count, first and last.
///
/// `bins` holds every account's sorted, distinct active time bins, those of
/// account `i` at `offsets[i]..offsets[i + 1]`; `a` and `b` are the pairs'
/// accounts (indexes into `offsets`). Returns per pair the number of bins both
/// were active in and the first and last of them (-1 when none): a merge of
/// the two sorted lists, where polars needed two joins and a hashed list
/// intersection per pair.
#[pyfunction]
pub fn shared_bins<'py>(
    py: Python<'py>,
    offsets: PyReadonlyArray1<'py, i64>,
    bins: PyReadonlyArray1<'py, i64>,
    a: PyReadonlyArray1<'py, u32>,
    b: PyReadonlyArray1<'py, u32>,
) -> PyResult<SharedBins<'py>> {
    let (offsets, bins) = (offsets.as_slice()?, bins.as_slice()?);
    let (a, b) = (a.as_slice()?, b.as_slice()?);
    let accounts = offsets.len().saturating_sub(1);
    let valid_offsets = offsets.first().is_none_or(|&o| o == 0)
        && offsets.windows(2).all(|w| w[0] <= w[1])
        && offsets.last().is_none_or(|&o| o as usize == bins.len());
    if !valid_offsets {
        return Err(PyValueError::new_err("offsets do not partition the bins"));
    }
    if a.len() != b.len() || a.iter().chain(b).any(|&i| i as usize >= accounts) {
        return Err(PyValueError::new_err("pair accounts out of range"));
    }
    let list = |i: u32| &bins[offsets[i as usize] as usize..offsets[i as usize + 1] as usize];
    let (count, first, last) = py.detach(|| {
        let mut count = Vec::with_capacity(a.len());
        let mut first = Vec::with_capacity(a.len());
        let mut last = Vec::with_capacity(a.len());
        for (&x, &y) in a.iter().zip(b) {
            let (mut c, mut lo, mut hi) = (0u32, -1i64, -1i64);
            for bin in common_sorted(list(x), list(y)) {
                if c == 0 {
                    lo = bin;
                }
                hi = bin;
                c += 1;
            }
            count.push(c);
            first.push(lo);
            last.push(hi);
        }
        (count, first, last)
    });
    Ok((
        count.into_pyarray(py),
        first.into_pyarray(py),
        last.into_pyarray(py),
    ))
}

type SharedBins<'py> = (
    Bound<'py, PyArray1<u32>>,
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<i64>>,
);

/// The values two sorted, distinct lists share, in order (a merge of the two).
pub(crate) fn common_sorted<'a, T: Ord + Copy>(
    left: &'a [T],
    right: &'a [T],
) -> impl Iterator<Item = T> + 'a {
    let (mut p, mut q) = (0, 0);
    std::iter::from_fn(move || {
        while p < left.len() && q < right.len() {
            match left[p].cmp(&right[q]) {
                std::cmp::Ordering::Less => p += 1,
                std::cmp::Ordering::Greater => q += 1,
                std::cmp::Ordering::Equal => {
                    p += 1;
                    q += 1;
                    return Some(left[p - 1]);
                }
            }
        }
        None
    })
}
