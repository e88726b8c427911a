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
//!
//! The scanner is written for this one shape, a flat object of known fields:
//! string contents are found with `memchr` and copied straight into their
//! column, names are matched in schema order first, and only an unknown
//! field's value is walked in full. It reads JSON exactly as serde_json (its
//! predecessor here, now the oracle of its tests) does, integers and floats
//! classified alike; where it is stricter (nesting deeper than 100), it
//! refuses, which only sends the batch the slower way.

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyTuple};

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

/// The contract's fields, looked up by name (in schema order first: the usual case).
struct Schema {
    names: Vec<String>,
    kinds: Vec<Kind>,
}

impl Schema {
    fn index(&self, key: &[u8], guess: usize) -> Option<usize> {
        if self
            .names
            .get(guess)
            .is_some_and(|name| same(name.as_bytes(), key))
        {
            return Some(guess);
        }
        self.names
            .iter()
            .position(|name| same(name.as_bytes(), key))
    }
}

/// `a == b` for short names, compared inline rather than by a call to `memcmp`.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(true, |equal, (x, y)| equal & (x == y))
}

/// The field order of the messages seen so far: which field followed each one.
///
/// Producers write their fields in an order of their own (rarely the
/// schema's), the same in every message; guessing each name from the one
/// before it makes nearly every lookup a single comparison.
struct Layout {
    /// `after[i]`: the field last seen after field `i`; `after[n]`: the first field.
    after: Vec<usize>,
}

impl Layout {
    fn new(fields: usize) -> Self {
        // Until seen otherwise: schema order.
        Layout {
            after: (1..=fields).chain([0]).collect(),
        }
    }

    fn start(&self) -> usize {
        self.after.len() - 1
    }
}

/// The batch is refused: the message is not JSON, or not as the fast path takes it.
struct Refused;

type Scan<T> = Result<T, Refused>;

/// Nesting of arrays and objects that is refused (serde_json's limit is 128).
const MAX_DEPTH: usize = 100;

/// A JSON number as serde_json classifies it: integers that fit an i64 or
/// u64 are integers, everything else (a fraction, an exponent, a larger
/// integer, and `-0`) a float.
enum Number {
    Int(i64),
    Uint(u64),
    Float(f64),
}

/// A strict JSON scanner over one message (RFC 8259, as serde_json reads it).
struct Scanner<'a> {
    text: &'a [u8],
    at: usize,
}

impl<'a> Scanner<'a> {
    fn peek(&self) -> Option<u8> {
        self.text.get(self.at).copied()
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.at += 1;
        }
    }

    fn expect(&mut self, byte: u8) -> Scan<()> {
        if self.peek() != Some(byte) {
            return Err(Refused);
        }
        self.at += 1;
        Ok(())
    }

    fn literal(&mut self, word: &[u8]) -> Scan<()> {
        if !self.text[self.at..].starts_with(word) {
            return Err(Refused);
        }
        self.at += word.len();
        Ok(())
    }

    /// After an opening quote: the string's raw bytes up to the closing quote
    /// if it has no escape (the position is then after the quote); `None` at
    /// its first backslash (the position is then there). Control characters
    /// are refused, as JSON requires.
    fn plain_string(&mut self) -> Scan<Option<&'a [u8]>> {
        let rest = &self.text[self.at..];
        let end = memchr::memchr2(b'"', b'\\', rest).ok_or(Refused)?;
        let run = &rest[..end];
        // A reduction without an early exit, which the compiler vectorises
        // (`any` would stop at the first hit, and test byte by byte).
        if run.iter().fold(0u8, |hit, &b| hit | u8::from(b < 0x20)) != 0 {
            return Err(Refused);
        }
        self.at += end;
        if rest[end] == b'\\' {
            return Ok(None);
        }
        self.at += 1;
        Ok(Some(run))
    }

    /// After an opening quote: the string's contents, unescaped, appended to `out`.
    fn string_into(&mut self, out: &mut Vec<u8>) -> Scan<()> {
        loop {
            let start = self.at;
            if let Some(run) = self.plain_string()? {
                out.extend_from_slice(run);
                return Ok(());
            }
            out.extend_from_slice(&self.text[start..self.at]);
            self.at += 1; // the backslash
            let escaped = self.peek().ok_or(Refused)?;
            self.at += 1;
            let byte = match escaped {
                b'"' => b'"',
                b'\\' => b'\\',
                b'/' => b'/',
                b'b' => 0x08,
                b'f' => 0x0c,
                b'n' => b'\n',
                b'r' => b'\r',
                b't' => b'\t',
                b'u' => {
                    let c = self.unicode_escape()?;
                    out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                    continue;
                }
                _ => return Err(Refused),
            };
            out.push(byte);
        }
    }

    fn hex4(&mut self) -> Scan<u32> {
        let digits = self.text.get(self.at..self.at + 4).ok_or(Refused)?;
        self.at += 4;
        digits.iter().try_fold(0u32, |value, &d| {
            Ok(value * 16 + (d as char).to_digit(16).ok_or(Refused)?)
        })
    }

    /// After `\u`: one character; a surrogate pair is two escapes, a lone surrogate refused.
    fn unicode_escape(&mut self) -> Scan<char> {
        let first = self.hex4()?;
        let code = match first {
            0xD800..=0xDBFF => {
                self.literal(b"\\u")?;
                let second = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&second) {
                    return Err(Refused);
                }
                0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
            }
            0xDC00..=0xDFFF => return Err(Refused),
            code => code,
        };
        char::from_u32(code).ok_or(Refused)
    }

    fn digits(&mut self) -> usize {
        let start = self.at;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.at += 1;
        }
        self.at - start
    }

    /// A number, by JSON's grammar, classified as serde_json does.
    fn number(&mut self) -> Scan<Number> {
        let start = self.at;
        let negative = self.peek() == Some(b'-');
        if negative {
            self.at += 1;
        }
        let integer_start = self.at;
        // The integer part's value, while it fits a u64.
        let mut magnitude: Option<u64> = Some(0);
        while let Some(digit @ b'0'..=b'9') = self.peek() {
            magnitude = magnitude
                .and_then(|m| m.checked_mul(10))
                .and_then(|m| m.checked_add(u64::from(digit - b'0')));
            self.at += 1;
        }
        match self.at - integer_start {
            0 => return Err(Refused),
            n if n > 1 && self.text[integer_start] == b'0' => return Err(Refused),
            _ => {}
        }
        let mut fraction = false;
        if self.peek() == Some(b'.') {
            self.at += 1;
            if self.digits() == 0 {
                return Err(Refused);
            }
            fraction = true;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.at += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.at += 1;
            }
            if self.digits() == 0 {
                return Err(Refused);
            }
            fraction = true;
        }
        let (Some(magnitude), false) = (magnitude, fraction) else {
            // A fraction, an exponent or an integer beyond u64: a float, as
            // serde_json reads it (correctly rounded; out of range refused).
            let text = std::str::from_utf8(&self.text[start..self.at]).map_err(|_| Refused)?;
            return match text.parse::<f64>() {
                Ok(value) if value.is_finite() => Ok(Number::Float(value)),
                _ => Err(Refused),
            };
        };
        Ok(match (negative, magnitude) {
            (false, m) => i64::try_from(m).map_or(Number::Uint(m), Number::Int),
            (true, 0) => Number::Float(-0.0),
            (true, m) if m <= 1 << 63 => Number::Int((m as i64).wrapping_neg()),
            (true, m) => Number::Float(-(m as f64)),
        })
    }

    /// Any JSON value, checked and skipped (a field the contract does not know).
    fn skip_value(&mut self, depth: usize) -> Scan<()> {
        match self.peek().ok_or(Refused)? {
            b'"' => {
                self.at += 1;
                while self.plain_string()?.is_none() {
                    self.at += 1;
                    match self.peek().ok_or(Refused)? {
                        b'u' => {
                            self.at += 1;
                            self.unicode_escape()?;
                        }
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.at += 1,
                        _ => return Err(Refused),
                    }
                }
            }
            b'-' | b'0'..=b'9' => {
                self.number()?;
            }
            b't' => self.literal(b"true")?,
            b'f' => self.literal(b"false")?,
            b'n' => self.literal(b"null")?,
            open @ (b'[' | b'{') => {
                if depth >= MAX_DEPTH {
                    return Err(Refused);
                }
                let close = if open == b'[' { b']' } else { b'}' };
                self.at += 1;
                self.skip_whitespace();
                if self.peek() == Some(close) {
                    self.at += 1;
                    return Ok(());
                }
                loop {
                    if open == b'{' {
                        if self.peek() != Some(b'"') {
                            return Err(Refused); // keys are strings
                        }
                        self.skip_value(depth)?;
                        self.skip_whitespace();
                        self.expect(b':')?;
                        self.skip_whitespace();
                    }
                    self.skip_value(depth + 1)?;
                    self.skip_whitespace();
                    match self.peek() {
                        Some(b',') => {
                            self.at += 1;
                            self.skip_whitespace();
                        }
                        Some(c) if c == close => {
                            self.at += 1;
                            return Ok(());
                        }
                        _ => return Err(Refused),
                    }
                }
            }
            _ => return Err(Refused),
        }
        Ok(())
    }

    /// A value of `column`'s type, or null, pushed onto it; any other type refused.
    fn value_into(&mut self, column: &mut Column) -> Scan<()> {
        if self.peek() == Some(b'n') {
            self.literal(b"null")?;
            column.push_null();
            return Ok(());
        }
        match &mut column.values {
            Values::Str { offsets, data } => {
                self.expect(b'"')?;
                self.string_into(data)?;
                offsets.push(i32::try_from(data.len()).map_err(|_| Refused)?);
            }
            Values::Bool(values) => match self.peek() {
                Some(b't') => {
                    self.literal(b"true")?;
                    values.push(true);
                }
                Some(b'f') => {
                    self.literal(b"false")?;
                    values.push(false);
                }
                _ => return Err(Refused),
            },
            Values::Int(values) => {
                if !matches!(self.peek(), Some(b'-' | b'0'..=b'9')) {
                    return Err(Refused);
                }
                match self.number()? {
                    Number::Int(n) => values.push(n),
                    Number::Uint(_) | Number::Float(_) => return Err(Refused),
                }
            }
            Values::Float(values) => {
                if !matches!(self.peek(), Some(b'-' | b'0'..=b'9')) {
                    return Err(Refused);
                }
                values.push(match self.number()? {
                    Number::Int(n) => n as f64,
                    Number::Uint(n) => n as f64,
                    Number::Float(x) => x,
                });
            }
        }
        column.valid.push(true);
        Ok(())
    }

    /// One message: a JSON object whose contract fields go to `columns`, by name.
    fn object_into(
        &mut self,
        schema: &Schema,
        layout: &mut Layout,
        columns: &mut [Column],
        key: &mut Vec<u8>,
    ) -> Scan<()> {
        self.skip_whitespace();
        self.expect(b'{')?;
        self.skip_whitespace();
        // At most 64 fields (checked by `parse_messages`): one bit each.
        let mut seen: u64 = 0;
        let mut previous = layout.start();
        if self.peek() == Some(b'}') {
            self.at += 1;
        } else {
            loop {
                self.expect(b'"')?;
                let start = self.at;
                let name = match self.plain_string()? {
                    Some(name) => name,
                    None => {
                        // an escaped name: read again from its start, unescaped
                        self.at = start;
                        key.clear();
                        self.string_into(key)?;
                        key.as_slice()
                    }
                };
                let found = schema.index(name, layout.after[previous]);
                self.skip_whitespace();
                self.expect(b':')?;
                self.skip_whitespace();
                match found {
                    Some(i) if seen & (1 << i) != 0 => return Err(Refused), // repeated
                    Some(i) => {
                        seen |= 1 << i;
                        layout.after[previous] = i;
                        previous = i;
                        self.value_into(&mut columns[i])?;
                    }
                    None => self.skip_value(1)?,
                }
                self.skip_whitespace();
                match self.peek() {
                    Some(b',') => {
                        self.at += 1;
                        self.skip_whitespace();
                    }
                    Some(b'}') => {
                        self.at += 1;
                        break;
                    }
                    _ => return Err(Refused),
                }
            }
        }
        self.skip_whitespace();
        if self.at != self.text.len() {
            return Err(Refused); // trailing characters
        }
        for (i, column) in columns.iter_mut().enumerate() {
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
    let mut key = Vec::new();
    let mut layout = Layout::new(schema.names.len());
    for message in messages {
        if message.len() > max_message_bytes {
            return None;
        }
        // One UTF-8 check of the whole message, instead of one per string
        // (and a cheaper one for the usual ASCII message).
        if !message.is_ascii() {
            std::str::from_utf8(message).ok()?;
        }
        let mut scanner = Scanner {
            text: message,
            at: 0,
        };
        scanner
            .object_into(schema, &mut layout, &mut columns, &mut key)
            .ok()?;
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

#[cfg(test)]
mod tests {
    //! The scanner against serde_json, which this module used before it: the
    //! same messages accepted, with the same values, on mutated messages.

    use super::*;
    use serde::de::{Deserializer, MapAccess, Visitor};
    use serde_json::Value;

    #[derive(Debug, PartialEq)]
    enum Cell {
        Null,
        Str(Vec<u8>),
        Int(i64),
        Float(u64), // bits: -0.0 and 0.0 differ
        Bool(bool),
    }

    /// A JSON object's fields in order, repeated names included.
    struct Pairs;

    impl<'de> Visitor<'de> for Pairs {
        type Value = Vec<(String, Value)>;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an object")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut pairs = Vec::new();
            while let Some(pair) = map.next_entry()? {
                pairs.push(pair);
            }
            Ok(pairs)
        }
    }

    /// The row serde_json gives `message` under the contract's typing rules.
    fn expected(message: &[u8], schema: &Schema) -> Option<Vec<Cell>> {
        let text = std::str::from_utf8(message).ok()?;
        let mut deserializer = serde_json::Deserializer::from_str(text);
        let pairs = (&mut deserializer).deserialize_map(Pairs).ok()?;
        deserializer.end().ok()?;
        let mut row: Vec<Option<Cell>> = schema.names.iter().map(|_| None).collect();
        for (name, value) in pairs {
            let Some(i) = schema.names.iter().position(|n| *n == name) else {
                continue;
            };
            if row[i].is_some() {
                return None; // repeated
            }
            row[i] = Some(match (schema.kinds[i], value) {
                (_, Value::Null) => Cell::Null,
                (Kind::Str, Value::String(s)) => Cell::Str(s.into_bytes()),
                (Kind::Bool, Value::Bool(b)) => Cell::Bool(b),
                (Kind::Int, Value::Number(n)) if !n.is_f64() => Cell::Int(
                    n.as_i64()
                        .or_else(|| n.as_u64().and_then(|u| i64::try_from(u).ok()))?,
                ),
                (Kind::Float, Value::Number(n)) => Cell::Float(n.as_f64()?.to_bits()),
                _ => return None,
            });
        }
        Some(row.into_iter().map(|c| c.unwrap_or(Cell::Null)).collect())
    }

    fn scanned(message: &[u8], schema: &Schema) -> Option<Vec<Cell>> {
        let columns = parse_all(&[message], schema, usize::MAX)?;
        Some(
            columns
                .into_iter()
                .map(|column| {
                    if !column.valid[0] {
                        return Cell::Null;
                    }
                    match column.values {
                        Values::Str { offsets, data } => {
                            Cell::Str(data[offsets[0] as usize..offsets[1] as usize].to_vec())
                        }
                        Values::Int(v) => Cell::Int(v[0]),
                        Values::Float(v) => Cell::Float(v[0].to_bits()),
                        Values::Bool(v) => Cell::Bool(v[0]),
                    }
                })
                .collect(),
        )
    }

    /// xorshift64*: a small deterministic generator (no dependency for the test).
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n
        }

        fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
            items[self.below(items.len())]
        }
    }

    const NUMBERS: &[&str] = &[
        "0",
        "-0",
        "7",
        "-7",
        "01",
        "-01",
        "1.0",
        "-0.0",
        "1.",
        ".5",
        "1e5",
        "1E+5",
        "-1.5e-3",
        "2.5",
        "1e400",
        "-1e400",
        "1e-400",
        "9223372036854775807",
        "9223372036854775808",
        "-9223372036854775808",
        "-9223372036854775809",
        "18446744073709551615",
        "18446744073709551616",
        "123456789012345678901234567890",
        "0.1",
        "1e",
        "1e+",
        "--1",
        "+1",
        "0x10",
        "3.141592653589793238462643383279",
    ];
    const STRINGS: &[&str] = &[
        r#""plain""#,
        r#""""#,
        r#""a\nb""#,
        r#""q\"uote\\""#,
        r#""\u00e9t\u00E9""#,
        r#""\ud83d\ude00""#,
        r#""\ud83d""#,
        r#""\ude00x""#,
        r#""\ud83d\u0041""#,
        r#""\x""#,
        r#""\/\b\f\r\t""#,
        "\"raw\ttab\"",
        "\"ünïcödé ✓\"",
        r#""\u12""#,
        r#""unterminated"#,
    ];
    const OTHERS: &[&str] = &[
        "true",
        "false",
        "null",
        "nul",
        "tru",
        "[]",
        "{}",
        "[1, [2, {\"a\": null}]]",
        "{\"k\": [true, \"s\", 1.5]}",
        "[1,]",
        "{\"a\" 1}",
        "[[[[[[[[]]]]]]]]",
    ];

    fn value(rng: &mut Rng) -> String {
        match rng.below(3) {
            0 => rng.pick(NUMBERS).to_string(),
            1 => rng.pick(STRINGS).to_string(),
            _ => rng.pick(OTHERS).to_string(),
        }
    }

    fn message(rng: &mut Rng, names: &[&str]) -> Vec<u8> {
        let space = [" ", "", "\n", "\t ", "\r\n"];
        let mut fields = Vec::new();
        for _ in 0..rng.below(8) {
            let name = match rng.below(6) {
                0 => "\"unknown\"".to_string(),
                1 => "\"n\\u0061me\"".to_string(), // "name", escaped
                _ => format!("\"{}\"", names[rng.below(names.len())]),
            };
            let s = space[rng.below(space.len())];
            fields.push(format!("{name}{s}:{s}{}", value(rng)));
        }
        let s = space[rng.below(space.len())];
        let mut text = format!("{s}{{{s}{}{s}}}{s}", fields.join(&format!(",{s}"))).into_bytes();
        if rng.below(4) == 0 {
            // one byte inserted, removed or replaced by a JSON-significant one
            let at = rng.below(text.len() + 1);
            let significant = b"{}[]\":,\\ 0-.eE\x01\xff";
            let byte = significant[rng.below(significant.len())];
            match rng.below(3) {
                0 => text.insert(at, byte),
                1 if at < text.len() => {
                    text.remove(at);
                }
                _ if at < text.len() => text[at] = byte,
                _ => {}
            }
        }
        text
    }

    #[test]
    fn scanner_reads_what_serde_json_reads() {
        let names = ["name", "count", "ratio", "flag"];
        let schema = Schema {
            names: names.iter().map(|n| n.to_string()).collect(),
            kinds: vec![Kind::Str, Kind::Int, Kind::Float, Kind::Bool],
        };
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let (mut accepted, mut refused) = (0, 0);
        for _ in 0..200_000 {
            let text = message(&mut rng, &names);
            let want = expected(&text, &schema);
            assert_eq!(
                scanned(&text, &schema),
                want,
                "{}",
                String::from_utf8_lossy(&text)
            );
            if want.is_some() {
                accepted += 1;
            } else {
                refused += 1;
            }
        }
        assert!(
            accepted > 20_000 && refused > 20_000,
            "{accepted} accepted, {refused} refused"
        );
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let schema = Schema {
            names: vec!["a".into()],
            kinds: vec![Kind::Int],
        };
        let deep = format!("{{\"b\": {}{}}}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(parse_all(&[deep.as_bytes()], &schema, usize::MAX).is_none());
    }
}
