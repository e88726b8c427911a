//! The bulk parse of a batch of messages into Arrow column buffers.
//!
//! `ingest.decode` hands a polled batch here first: each message is parsed
//! as one JSON object whose known fields go, by name, into a column builder
//! of the type the contract gives them; unknown fields are skipped. Types are
//! strict — a string field takes only JSON strings, an integer field only
//! JSON integers (no `1.0`), a boolean only `true`/`false`, a number field
//! any JSON number — and `null` or a missing field is a null. Anything else
//! (malformed JSON, a wrong type, a repeated field, an oversized message)
//! makes the whole batch `None`, and the decoder takes its Arrow path, which
//! isolates each bad message and names its reason. So this never accepts a
//! batch that path would treat differently; it only gets there sooner, and
//! without the GIL.

use std::fmt;

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyTuple};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

/// A contract field's type, as `ingest.decode` numbers them.
#[derive(Clone, Copy)]
enum Kind {
    Str,
    Int,
    Float,
    Bool,
}

impl Kind {
    fn from_code(code: u8) -> PyResult<Self> {
        Ok(match code {
            0 => Kind::Str,
            1 => Kind::Int,
            2 => Kind::Float,
            3 => Kind::Bool,
            _ => {
                return Err(pyo3::exceptions::PyValueError::new_err(format!(
                    "field kind {code}"
                )))
            }
        })
    }
}

/// One column's Arrow buffers as they are built: values and a validity flag per row.
enum Values {
    /// Arrow `string`: `offsets[i]..offsets[i + 1]` of `data` is row i.
    Str {
        offsets: Vec<i32>,
        data: Vec<u8>,
    },
    Int(Vec<i64>),
    Float(Vec<f64>),
    Bool(Vec<bool>),
}

struct Column {
    values: Values,
    valid: Vec<bool>,
}

impl Column {
    fn new(kind: Kind, rows: usize) -> Self {
        let values = match kind {
            Kind::Str => {
                let mut offsets = Vec::with_capacity(rows + 1);
                offsets.push(0);
                Values::Str {
                    offsets,
                    data: Vec::new(),
                }
            }
            Kind::Int => Values::Int(Vec::with_capacity(rows)),
            Kind::Float => Values::Float(Vec::with_capacity(rows)),
            Kind::Bool => Values::Bool(Vec::with_capacity(rows)),
        };
        Column {
            values,
            valid: Vec::with_capacity(rows),
        }
    }

    fn push_null(&mut self) {
        match &mut self.values {
            Values::Str { offsets, data } => offsets.push(data.len() as i32),
            Values::Int(values) => values.push(0),
            Values::Float(values) => values.push(0.0),
            Values::Bool(values) => values.push(false),
        }
        self.valid.push(false);
    }
}

/// Deserializes one field's value into its column (null included).
struct Field<'a>(&'a mut Column);

impl<'de> DeserializeSeed<'de> for Field<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for Field<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a value of the field's contract type, or null")
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.0.push_null();
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.visit_none()
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        let column = self.0;
        match column.values {
            Values::Str { .. } => deserializer.deserialize_str(Typed(column)),
            Values::Int(_) => deserializer.deserialize_i64(Typed(column)),
            Values::Float(_) => deserializer.deserialize_f64(Typed(column)),
            Values::Bool(_) => deserializer.deserialize_bool(Typed(column)),
        }
    }
}

/// A non-null value of the column's type; any other JSON type is refused.
struct Typed<'a>(&'a mut Column);

impl<'de> Visitor<'de> for Typed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a value of the field's contract type")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<(), E> {
        let Values::Str { offsets, data } = &mut self.0.values else {
            return Err(E::custom("a string in a field that is not one"));
        };
        data.extend_from_slice(text.as_bytes());
        let end = i32::try_from(data.len()).map_err(|_| E::custom("string column over 2 GiB"))?;
        offsets.push(end);
        self.0.valid.push(true);
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, number: i64) -> Result<(), E> {
        match &mut self.0.values {
            Values::Int(values) => values.push(number),
            Values::Float(values) => values.push(number as f64),
            _ => return Err(E::custom("a number in a field that is not one")),
        }
        self.0.valid.push(true);
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, number: u64) -> Result<(), E> {
        if let Values::Float(values) = &mut self.0.values {
            values.push(number as f64);
            self.0.valid.push(true);
            return Ok(());
        }
        let number = i64::try_from(number).map_err(|_| E::custom("integer beyond int64"))?;
        self.visit_i64(number)
    }

    fn visit_f64<E: de::Error>(self, number: f64) -> Result<(), E> {
        let Values::Float(values) = &mut self.0.values else {
            return Err(E::custom("a fraction in a field that is not a number"));
        };
        values.push(number);
        self.0.valid.push(true);
        Ok(())
    }

    fn visit_bool<E: de::Error>(self, flag: bool) -> Result<(), E> {
        let Values::Bool(values) = &mut self.0.values else {
            return Err(E::custom("a boolean in a field that is not one"));
        };
        values.push(flag);
        self.0.valid.push(true);
        Ok(())
    }
}

/// The contract's fields, looked up by name (in schema order first: the usual case).
struct Schema {
    names: Vec<String>,
    kinds: Vec<Kind>,
}

impl Schema {
    fn index(&self, key: &str, guess: usize) -> Option<usize> {
        if self.names.get(guess).is_some_and(|name| name == key) {
            return Some(guess);
        }
        self.names.iter().position(|name| name == key)
    }
}

/// A field name, resolved to its column without copying it (`None`: not a contract field).
struct Key<'a> {
    schema: &'a Schema,
    guess: usize,
}

impl<'de> DeserializeSeed<'de> for Key<'_> {
    type Value = Option<usize>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<usize>, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key<'_> {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Option<usize>, E> {
        Ok(self.schema.index(key, self.guess))
    }
}

/// One message: a JSON object whose fields are routed to the columns.
struct Row<'a> {
    schema: &'a Schema,
    columns: &'a mut [Column],
}

impl<'de> Visitor<'de> for Row<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        // At most 64 fields (checked by `parse_messages`): one bit each.
        let mut seen: u64 = 0;
        let mut guess = 0;
        while let Some(found) = map.next_key_seed(Key {
            schema: self.schema,
            guess,
        })? {
            match found {
                Some(i) if seen & (1 << i) != 0 => {
                    return Err(de::Error::custom(format!(
                        "{} repeated",
                        self.schema.names[i]
                    )));
                }
                Some(i) => {
                    seen |= 1 << i;
                    guess = i + 1;
                    map.next_value_seed(Field(&mut self.columns[i]))?;
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        for (i, column) in self.columns.iter_mut().enumerate() {
            if seen & (1 << i) == 0 {
                column.push_null();
            }
        }
        Ok(())
    }
}

fn parse_all(messages: &[&[u8]], schema: &Schema, max_message_bytes: usize) -> Option<Vec<Column>> {
    let mut columns: Vec<Column> = schema
        .kinds
        .iter()
        .map(|&k| Column::new(k, messages.len()))
        .collect();
    for message in messages {
        if message.len() > max_message_bytes {
            return None;
        }
        // One UTF-8 check of the whole message, instead of one per string.
        let text = std::str::from_utf8(message).ok()?;
        let mut deserializer = serde_json::Deserializer::from_str(text);
        let row = Row {
            schema,
            columns: &mut columns,
        };
        deserializer.deserialize_map(row).ok()?;
        deserializer.end().ok()?;
    }
    Some(columns)
}

/// Arrow validity bitmap (LSB first) of `flags`.
fn bitmap(flags: &[bool]) -> Vec<u8> {
    let mut bits = vec![0u8; flags.len().div_ceil(8)];
    for (i, _) in flags.iter().enumerate().filter(|(_, &flag)| flag) {
        bits[i / 8] |= 1 << (i % 8);
    }
    bits
}

fn as_bytes<T: Copy>(values: &[T]) -> &[u8] {
    // SAFETY: plain-old-data numbers viewed as their bytes, in native order,
    // which is what Arrow's buffers hold.
    unsafe { std::slice::from_raw_parts(values.as_ptr().cast(), std::mem::size_of_val(values)) }
}

/// Parse `raws` against the fields `names` of kinds `kinds` (0 string, 1
/// int64, 2 float64, 3 bool); `None` unless every message is a well-typed
/// JSON object of at most `max_message_bytes` bytes.
///
/// Each column comes back as `(null_count, validity, *buffers)`, the buffers
/// of Arrow's layout for its type: offsets and data for a string, values for
/// a number, a bitmap for a boolean.
#[pyfunction]
pub fn parse_messages<'py>(
    py: Python<'py>,
    raws: Vec<Bound<'py, PyBytes>>,
    names: Vec<String>,
    kinds: Vec<u8>,
    max_message_bytes: usize,
) -> PyResult<Option<Bound<'py, PyList>>> {
    let kinds = kinds
        .into_iter()
        .map(Kind::from_code)
        .collect::<PyResult<Vec<_>>>()?;
    if kinds.len() != names.len() || kinds.len() > 64 {
        return Err(pyo3::exceptions::PyValueError::new_err(
            "up to 64 names, one kind each",
        ));
    }
    let schema = Schema { names, kinds };
    let messages: Vec<&[u8]> = raws.iter().map(|raw| raw.as_bytes()).collect();
    let Some(columns) = py.detach(|| parse_all(&messages, &schema, max_message_bytes)) else {
        return Ok(None);
    };
    let out = PyList::empty(py);
    for column in columns {
        let nulls = column.valid.iter().filter(|&&valid| !valid).count();
        let validity = PyBytes::new(py, &bitmap(&column.valid));
        let mut parts = vec![nulls.into_pyobject(py)?.into_any(), validity.into_any()];
        match &column.values {
            Values::Str { offsets, data } => {
                parts.push(PyBytes::new(py, as_bytes(offsets)).into_any());
                parts.push(PyBytes::new(py, data).into_any());
            }
            Values::Int(values) => parts.push(PyBytes::new(py, as_bytes(values)).into_any()),
            Values::Float(values) => parts.push(PyBytes::new(py, as_bytes(values)).into_any()),
            Values::Bool(values) => parts.push(PyBytes::new(py, &bitmap(values)).into_any()),
        }
        out.append(PyTuple::new(py, parts)?)?;
    }
    Ok(Some(out))
}
