//! Native screen of the bulk decoder (`ingest.decode`).
//!
//! A polled batch goes to Arrow's JSON reader as one newline-joined buffer.
//! That is only sound when no message is oversized, blank, invalid UTF-8 or
//! holds a line break of its own (which would split it into two "lines").
//! Checking that and joining are one pass over the bytes here, instead of an
//! Arrow copy, four compute kernels and a Python `bytes.join`; the decoder
//! falls back to its per-message screen when this says no.
//!
//! The bulk parse itself (`events`), the conversion of its timestamps
//! (`timestamps`) and the consumer's record unpacking (`records`) live here too, so that the lake writer's whole path from
//! fetched bytes to Arrow columns is one extension.

mod events;
mod records;
mod timestamps;

use pyo3::prelude::*;
use pyo3::types::PyBytes;

/// Whether one message can go to the bulk parse as it is.
fn plain(message: &[u8], max_message_bytes: usize) -> bool {
    message.len() <= max_message_bytes
        && memchr::memchr2(b'\n', b'\r', message).is_none()
        && std::str::from_utf8(message).is_ok_and(|text| !text.trim().is_empty())
}

/// The messages joined by `\n` if every one is plain, else `None`.
///
/// Plain: at most `max_message_bytes` long, not empty or blank (Unicode
/// white space), no `\n` or `\r`, valid UTF-8.
#[pyfunction]
fn join_plain<'py>(
    py: Python<'py>,
    raws: Vec<Bound<'py, PyBytes>>,
    max_message_bytes: usize,
) -> PyResult<Option<Bound<'py, PyBytes>>> {
    let messages: Vec<&[u8]> = raws.iter().map(|raw| raw.as_bytes()).collect();
    if !messages.iter().all(|m| plain(m, max_message_bytes)) {
        return Ok(None);
    }
    let size = messages.iter().map(|m| m.len()).sum::<usize>() + messages.len().saturating_sub(1);
    PyBytes::new_with(py, size, |buffer| {
        let mut at = 0;
        for (i, message) in messages.iter().enumerate() {
            if i > 0 {
                buffer[at] = b'\n';
                at += 1;
            }
            buffer[at..at + message.len()].copy_from_slice(message);
            at += message.len();
        }
        Ok(())
    })
    .map(Some)
}

#[pymodule]
fn _decode_native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(join_plain, m)?)?;
    m.add_function(wrap_pyfunction!(records::unpack_records, m)?)?;
    m.add_function(wrap_pyfunction!(events::parse_messages, m)?)?;
    m.add_function(wrap_pyfunction!(timestamps::parse_timestamps, m)?)?;
    Ok(())
}
