//! RFC 3339 timestamps of a string column, to microseconds since the epoch, UTC.
//!
//! The contract's `ts` and `account_created_at` are JSON Schema `date-time`
//! strings: RFC 3339 with a mandatory offset. `ingest.decode` converts both
//! columns of every decoded batch here, in one pass over the Arrow buffers,
//! and turns the status of each row into the contract's reject reasons.
//!
//! Accepted: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)`, ASCII digits,
//! `T` and `Z` in either case (RFC 3339 §5.6), a real calendar date, hours
//! to 23, minutes to 59, seconds to 60 (a leap second counts as the first
//! second of the next minute), offsets to ±23:59. Fractions of any length
//! are truncated to the microsecond.

use pyo3::buffer::PyBuffer;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

/// Status of one row, as `ingest.decode` reads it.
const VALID: u8 = 0;
const NULL: u8 = 1;
/// A date and time without an offset (`T`, `t` or a space between them).
const NO_OFFSET: u8 = 2;
const INVALID: u8 = 3;

/// The value of the ASCII digits `text` (`None` if any is not one).
fn digits(text: &[u8]) -> Option<i64> {
    text.iter().try_fold(0i64, |value, &c| {
        c.is_ascii_digit().then(|| value * 10 + i64::from(c - b'0'))
    })
}

/// Days from 1970-01-01 to the given proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Microseconds since the epoch of one RFC 3339 timestamp, or its status.
pub fn micros(text: &[u8]) -> Result<i64, u8> {
    if text.len() < 19 || text[4] != b'-' || text[7] != b'-' || text[13] != b':' || text[16] != b':'
    {
        return Err(INVALID);
    }
    let field = |range: std::ops::Range<usize>| digits(&text[range]).ok_or(INVALID);
    let (year, month, day) = (field(0..4)?, field(5..7)?, field(8..10)?);
    let (hour, minute, second) = (field(11..13)?, field(14..16)?, field(17..19)?);
    let separator = text[10];
    if !matches!(separator, b'T' | b't' | b' ') {
        return Err(INVALID);
    }
    let mut at = 19;
    let mut fraction_us = 0;
    if text.get(at) == Some(&b'.') {
        let run = text[at + 1..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        if run == 0 {
            return Err(INVALID);
        }
        let kept = &text[at + 1..at + 1 + run.min(6)];
        fraction_us = digits(kept).ok_or(INVALID)? * 10i64.pow(6 - kept.len() as u32);
        at += 1 + run;
    }
    let offset_s = match &text[at..] {
        [] => return Err(NO_OFFSET),
        _ if separator == b' ' => return Err(INVALID),
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let (hours, minutes) = (digits(&[*h1, *h2]), digits(&[*m1, *m2]));
            let (Some(hours @ 0..=23), Some(minutes @ 0..=59)) = (hours, minutes) else {
                return Err(INVALID);
            };
            let offset = hours * 3600 + minutes * 60;
            if *sign == b'-' {
                -offset
            } else {
                offset
            }
        }
        _ => return Err(INVALID),
    };
    if !(1..=12).contains(&month)
        || !(1..=days_in_month(year, month)).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return Err(INVALID);
    }
    let seconds =
        days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset_s;
    Ok(seconds * 1_000_000 + fraction_us)
}

/// A contiguous buffer's bytes (Arrow buffers are), or an error naming it.
///
/// Buffers are taken as `i8`, the item type pyarrow's buffers declare.
fn bytes<'a>(buffer: &'a PyBuffer<i8>, what: &str) -> PyResult<&'a [u8]> {
    if !buffer.is_c_contiguous() {
        return Err(PyValueError::new_err(format!("{what} is not contiguous")));
    }
    // SAFETY: a contiguous buffer of `len_bytes` bytes, kept alive (and not
    // written: Arrow buffers are immutable) while `buffer` is borrowed.
    Ok(unsafe { std::slice::from_raw_parts(buffer.buf_ptr().cast(), buffer.len_bytes()) })
}

/// `(null_count, validity, micros, status)`: what [`parse_timestamps`] returns.
type Converted<'py> = (
    usize,
    Bound<'py, PyBytes>,
    Bound<'py, PyBytes>,
    Bound<'py, PyBytes>,
);

/// Convert the Arrow `string` array with buffers `validity` (None: all valid),
/// `offsets` (int32) and `data` (None: no characters), of `length` rows from `offset`.
///
/// Returns `(null_count, validity, micros, status)`: the buffers of an Arrow
/// int64 (timestamp) array, valid where a timestamp was read, and a status
/// byte per row (0 valid, 1 null, 2 no offset, 3 not an RFC 3339 timestamp).
#[pyfunction]
#[pyo3(signature = (length, offset, validity, offsets, data))]
pub fn parse_timestamps<'py>(
    py: Python<'py>,
    length: usize,
    offset: usize,
    validity: Option<PyBuffer<i8>>,
    offsets: PyBuffer<i8>,
    data: Option<PyBuffer<i8>>,
) -> PyResult<Converted<'py>> {
    let valid = validity
        .as_ref()
        .map(|v| bytes(v, "validity"))
        .transpose()?;
    let offsets: Vec<usize> = bytes(&offsets, "offsets")?
        .chunks_exact(4)
        .map(|o| i32::from_ne_bytes([o[0], o[1], o[2], o[3]]) as usize)
        .collect();
    let data = data.as_ref().map_or(Ok(&[][..]), |d| bytes(d, "data"))?;
    if offsets.len() < offset + length + 1 || valid.is_some_and(|v| v.len() * 8 < offset + length) {
        return Err(PyValueError::new_err("buffers shorter than the array"));
    }
    let mut values = vec![0i64; length];
    let mut status = vec![NULL; length];
    let mut bitmap = vec![0u8; length.div_ceil(8)];
    let mut nulls = 0;
    py.detach(|| {
        for i in 0..length {
            let row = offset + i;
            if valid.is_some_and(|v| v[row / 8] & (1 << (row % 8)) == 0) {
                nulls += 1;
                continue;
            }
            let (start, end) = (offsets[row], offsets[row + 1]);
            match data.get(start..end).map(micros) {
                Some(Ok(us)) => {
                    values[i] = us;
                    status[i] = VALID;
                    bitmap[i / 8] |= 1 << (i % 8);
                }
                Some(Err(code)) => {
                    status[i] = code;
                    nulls += 1;
                }
                None => {
                    status[i] = INVALID;
                    nulls += 1;
                }
            }
        }
    });
    // SAFETY: plain i64s viewed as their bytes, in native order (Arrow's layout).
    let raw = unsafe { std::slice::from_raw_parts(values.as_ptr().cast::<u8>(), length * 8) };
    Ok((
        nulls,
        PyBytes::new(py, &bitmap),
        PyBytes::new(py, raw),
        PyBytes::new(py, &status),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_offsets_fractions_and_leap_seconds() {
        assert_eq!(micros(b"1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(micros(b"1969-12-31T23:59:59.999999Z"), Ok(-1));
        assert_eq!(
            micros(b"2026-01-01T00:00:00+05:30"),
            Ok(1_767_205_800_000_000)
        );
        assert_eq!(
            micros(b"2026-01-01t00:00:00.1234567z"),
            Ok(1_767_225_600_123_456)
        );
        assert_eq!(micros(b"2026-01-01T23:59:60Z"), Ok(1_767_312_000_000_000));
        assert_eq!(micros(b"2024-02-29T00:00:00Z"), Ok(1_709_164_800_000_000));
        assert_eq!(micros(b"0000-01-01T00:00:00Z"), Ok(-62_167_219_200_000_000));
    }

    #[test]
    fn refuses_what_is_not_rfc_3339() {
        for text in [
            "2026-02-29T00:00:00Z",
            "2026-01-01T24:00:00Z",
            "2026-01-01T00:00:00+24:00",
            "2026-01-01T00:00:00+0530",
            "2026-01-01T00:00:00.Z",
            "2026-01-01 00:00:00Z",
            " 2026-01-01T00:00:00Z",
            "2026-1-01T00:00:00Z",
        ] {
            assert_eq!(micros(text.as_bytes()), Err(INVALID), "{text}");
        }
        assert_eq!(micros(b"2026-01-01 00:00:00.5"), Err(NO_OFFSET));
        assert_eq!(micros(b"2026-01-01T00:00:00"), Err(NO_OFFSET));
    }
}
