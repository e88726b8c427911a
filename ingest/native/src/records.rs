//! The records of a Kafka record batch (message format v2), unpacked in one call.
//!
//! kafka-python reads each record of a fetched batch with a dozen Python-level
//! varint decodes and two object constructions, which is most of what a
//! consumer spends per message. `ingest.records` hands the batch's
//! (decompressed) record section here instead and gets the records back ready
//! made. Framing follows the protocol's record layout:
//!
//! ```text
//! Record => Length:varint Attributes:int8 TimestampDelta:varlong OffsetDelta:varint
//!           Key:varint-bytes Value:varint-bytes Headers:[HeaderKey:varint-string HeaderValue:varint-bytes]
//! ```
//!
//! A malformed record is an error naming what is wrong, never a partial list.

use pyo3::buffer::PyBuffer;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyString, PyTuple, PyType};

/// Fields of kafka-python's `ConsumerRecord`.
const FIELDS: usize = 13;

/// Instances of a tuple subclass with no fields of its own (a namedtuple such
/// as `ConsumerRecord`), made as `tuple.__new__(cls, fields)` makes them, but
/// without the call and the intermediate tuple: a tenth of a record's cost.
struct RecordType<'py> {
    cls: Bound<'py, PyType>,
}

impl<'py> RecordType<'py> {
    fn new(cls: Bound<'py, PyType>) -> PyResult<Self> {
        // SAFETY: reading two fields of live type objects.
        let same_layout = unsafe {
            (*cls.as_type_ptr()).tp_basicsize
                == (*std::ptr::addr_of!(ffi::PyTuple_Type)).tp_basicsize
        };
        if !cls.is_subclass_of::<PyTuple>()? || !same_layout {
            return Err(PyTypeError::new_err(
                "record type must be a namedtuple class",
            ));
        }
        Ok(RecordType { cls })
    }

    fn make(
        &self,
        py: Python<'py>,
        fields: [Bound<'py, PyAny>; FIELDS],
    ) -> PyResult<Bound<'py, PyAny>> {
        let tp = self.cls.as_type_ptr();
        // SAFETY: `tp` is a tuple subclass of tuple's layout (checked in `new`);
        // its allocator returns a tuple-shaped object of FIELDS empty slots (or
        // NULL with an exception set), each filled once with an owned reference.
        unsafe {
            let alloc = (*tp).tp_alloc.unwrap_or(ffi::PyType_GenericAlloc);
            let record = alloc(tp, FIELDS as ffi::Py_ssize_t);
            if record.is_null() {
                return Err(PyErr::fetch(py));
            }
            for (i, field) in fields.into_iter().enumerate() {
                ffi::PyTuple_SET_ITEM(record, i as ffi::Py_ssize_t, field.into_ptr());
            }
            Ok(Bound::from_owned_ptr(py, record))
        }
    }
}

/// `timestamp_type` of a batch whose records carry the broker's append time.
const LOG_APPEND_TIME: i64 = 1;

/// A cursor over the record section that fails, instead of panicking, past its end.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    /// A zigzag-encoded variable-length integer (Kafka's varint and varlong).
    fn varint(&mut self) -> PyResult<i64> {
        let mut value: u64 = 0;
        for shift in (0..64).step_by(7) {
            let Some(&byte) = self.bytes.get(self.at) else {
                return Err(corrupt(format!(
                    "varint runs past the end at byte {}",
                    self.at
                )));
            };
            self.at += 1;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(((value >> 1) as i64) ^ -((value & 1) as i64));
            }
        }
        Err(corrupt(format!(
            "varint longer than 10 bytes before byte {}",
            self.at
        )))
    }

    fn byte(&mut self) -> PyResult<u8> {
        let byte = *self
            .bytes
            .get(self.at)
            .ok_or_else(|| corrupt(format!("record ends at byte {}", self.at)))?;
        self.at += 1;
        Ok(byte)
    }

    /// `len` bytes, or `None` for a negative (null) length.
    fn take(&mut self, len: i64, what: &str) -> PyResult<Option<&'a [u8]>> {
        if len < 0 {
            return Ok(None);
        }
        let end = self
            .at
            .checked_add(len as usize)
            .filter(|&end| end <= self.bytes.len());
        let Some(end) = end else {
            return Err(corrupt(format!(
                "{what} of {len} bytes at byte {} runs past the end ({} bytes)",
                self.at,
                self.bytes.len()
            )));
        };
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(Some(slice))
    }
}

fn corrupt(message: String) -> PyErr {
    PyValueError::new_err(message)
}

/// The bytes, or `None` for a null field.
fn bytes_or_none<'py>(py: Python<'py>, field: Option<&[u8]>) -> Bound<'py, PyAny> {
    match field {
        Some(bytes) => PyBytes::new(py, bytes).into_any(),
        None => py.None().into_bound(py),
    }
}

/// Unpack the `count` records of a v2 batch's record section, `buffer[start:]`.
///
/// `prefix` is `(topic, partition, leader_epoch)`, the fields every record of
/// the batch shares. Each record is an instance of `record_type` (kafka-python's
/// `ConsumerRecord`) holding `(*prefix, offset, timestamp, timestamp_type, key,
/// value, headers, None, key_size, value_size, header_size)`, whose sizes are
/// -1 for a null field. Returns the records and the sum of their
/// declared lengths (kafka-python's `size_in_bytes`). Raises `ValueError`
/// when a record is malformed or bytes are left after the last one.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
#[pyo3(signature = (buffer, start, count, base_offset, first_timestamp, max_timestamp, timestamp_type, prefix, record_type))]
pub fn unpack_records<'py>(
    py: Python<'py>,
    buffer: PyBuffer<u8>,
    start: usize,
    count: usize,
    base_offset: i64,
    first_timestamp: i64,
    max_timestamp: i64,
    timestamp_type: i64,
    prefix: &Bound<'py, PyTuple>,
    record_type: Bound<'py, PyType>,
) -> PyResult<(Bound<'py, PyList>, usize)> {
    let record_type = RecordType::new(record_type)?;
    let all = buffer
        .as_slice_ptr()
        .ok_or_else(|| PyValueError::new_err("the record buffer is not contiguous bytes"))?;
    // SAFETY: the buffer stays exported (so a bytearray cannot be resized or
    // freed) while `buffer` lives, and this function holds the GIL throughout
    // without running code that could write to it.
    let all: &[u8] = unsafe { all.as_ref() };
    let bytes = all
        .get(start..)
        .ok_or_else(|| corrupt(format!("record section starts at {start}, past the end")))?;
    let mut reader = Reader { bytes, at: 0 };
    let (topic, partition, leader_epoch) = (
        prefix.get_item(0)?,
        prefix.get_item(1)?,
        prefix.get_item(2)?,
    );
    let ts_type = timestamp_type.into_pyobject(py)?.into_any();
    let none = py.None().into_bound(py);
    let records = PyList::empty(py);
    let mut size = 0usize;
    for index in 0..count {
        let length = reader.varint()?;
        let body = reader.at;
        reader.byte()?; // attributes: unused by format v2
        let ts_delta = reader.varint()?;
        let offset_delta = reader.varint()?;
        let key_len = reader.varint()?;
        let key = reader.take(key_len, "key")?;
        let value_len = reader.varint()?;
        let value = reader.take(value_len, "value")?;
        let header_count = reader.varint()?;
        if header_count < 0 {
            return Err(corrupt(format!(
                "record {index} has {header_count} headers"
            )));
        }
        let headers = PyList::empty(py);
        let mut header_size: i64 = 0;
        for _ in 0..header_count {
            let key_len = reader.varint()?;
            if key_len < 0 {
                return Err(corrupt(format!(
                    "record {index} has a header key of {key_len} bytes"
                )));
            }
            let h_key = reader.take(key_len, "header key")?.unwrap_or_default();
            let h_key = std::str::from_utf8(h_key).map_err(|err| {
                corrupt(format!(
                    "record {index} has a header key that is not UTF-8: {err}"
                ))
            })?;
            let h_value_len = reader.varint()?;
            let h_value = reader.take(h_value_len, "header value")?;
            header_size += h_key.len() as i64 + h_value.map_or(0, |v| v.len() as i64);
            headers.append((PyString::new(py, h_key), bytes_or_none(py, h_value)))?;
        }
        if (reader.at - body) as i64 != length {
            return Err(corrupt(format!(
                "record {index} declares {length} bytes but holds {}",
                reader.at - body
            )));
        }
        size += length as usize;
        let timestamp = if timestamp_type == LOG_APPEND_TIME {
            max_timestamp
        } else {
            first_timestamp + ts_delta
        };
        let len_or_null = |field: Option<&[u8]>| field.map_or(-1, |f| f.len() as i64);
        let fields = [
            topic.clone(),
            partition.clone(),
            leader_epoch.clone(),
            (base_offset + offset_delta).into_pyobject(py)?.into_any(),
            timestamp.into_pyobject(py)?.into_any(),
            ts_type.clone(),
            bytes_or_none(py, key),
            bytes_or_none(py, value),
            headers.into_any(),
            none.clone(),
            len_or_null(key).into_pyobject(py)?.into_any(),
            len_or_null(value).into_pyobject(py)?.into_any(),
            (if header_count > 0 { header_size } else { -1 })
                .into_pyobject(py)?
                .into_any(),
        ];
        records.append(record_type.make(py, fields)?)?;
    }
    if reader.at != bytes.len() {
        return Err(corrupt(format!(
            "{} unconsumed bytes after all {count} records",
            bytes.len() - reader.at
        )));
    }
    Ok((records, size))
}
