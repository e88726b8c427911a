//! Native kernels of `features`: the content signals of `features.content`
//! (this file) and the pairing of `features.links` (`links.rs`); and the
//! passes over the tie graph of `models.campaigns` (`graph.rs`), which build
//! on those links.
//!
//! One pass per prompt computes every signal that `features.content` defines:
//! the prompt is lower-cased once, hashed, searched for its template tokens,
//! shingled for MinHash and scanned once for all elicitation and topic
//! patterns together. The patterns, sizes and seeds are given by the Python
//! side (`features.patterns` and `features.content`), which owns their
//! definitions; this crate holds only the loops. Regular expressions use the
//! `regex` crate, the engine polars uses, so the patterns keep the semantics
//! they are documented and tested with.
//!
//! Hashes are XXH3-64 with fixed seeds: stable across releases of this crate
//! and of polars, so fingerprints stay comparable across upgrades.
//!
//! Inputs are Arrow large-string columns as (values, offsets, validity)
//! NumPy views, so no string is copied into Python objects; the work runs
//! without the GIL, split over a few threads.

mod graph;
mod links;

use numpy::{IntoPyArray, PyReadonlyArray1};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use std::collections::HashMap;
use std::sync::Arc;

/// Most distinct system prompts whose pattern matches a chunk keeps (then it starts afresh).
const SYSTEM_PROMPT_CACHE: usize = 4096;

use regex::{Regex, RegexSet};
use xxhash_rust::xxh3::xxh3_64_with_seed;

fn compile(pattern: &str) -> PyResult<Regex> {
    Regex::new(pattern).map_err(|e| PyValueError::new_err(e.to_string()))
}

fn compile_set<'a>(patterns: impl IntoIterator<Item = &'a String>) -> PyResult<RegexSet> {
    RegexSet::new(patterns).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// `pattern` with every `\x` escape for which `replace` gives text replaced
/// by it (escaped backslashes are left alone).
fn rewrite(pattern: &str, replace: impl Fn(char) -> Option<&'static str>) -> String {
    let mut out = String::with_capacity(pattern.len() + 32);
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some(escaped) => match replace(escaped) {
                Some(text) => out.push_str(text),
                None => {
                    out.push('\\');
                    out.push(escaped);
                }
            },
            None => out.push('\\'),
        }
    }
    out
}

/// `pattern` with its Perl classes and word boundaries restricted to ASCII:
/// exactly the same matches on any ASCII haystack.
fn ascii_variant(pattern: &str) -> String {
    rewrite(pattern, |class| match class {
        'b' => Some(r"(?-u:\b)"),
        'B' => Some(r"(?-u:\B)"),
        'w' => Some("[0-9A-Za-z_]"),
        'W' => Some("[^0-9A-Za-z_]"),
        'd' => Some("[0-9]"),
        'D' => Some("[^0-9]"),
        's' => Some(r"[\t\n\x0B\x0C\r ]"),
        'S' => Some(r"[^\t\n\x0B\x0C\r ]"),
        _ => None,
    })
}

/// `pattern` with every word-boundary assertion replaced by an empty group:
/// it matches wherever `pattern` does, and more.
fn without_boundaries(pattern: &str) -> String {
    rewrite(pattern, |class| match class {
        'b' | 'B' => Some("(?:)"),
        _ => None,
    })
}

/// Many patterns searched in one pass: which of them occur in a text.
///
/// Unicode word boundaries (`\b`) keep the `regex` crate's DFAs from
/// searching non-ASCII text, and the engine that remains is slow; on ASCII
/// text they mean exactly what ASCII boundaries mean. So ASCII text (most
/// prompts): one set search with the ASCII variants, exact there. Other
/// text: one set search with *gates*, the patterns without word boundaries
/// (a superset of their matches, DFA-friendly), then the exact pattern only
/// for the few gates that matched.
struct PatternSet {
    ascii: RegexSet,
    gates: RegexSet,
    exact: Vec<Option<Regex>>,
}

impl PatternSet {
    fn new(patterns: &[String]) -> PyResult<Self> {
        let ascii: Vec<String> = patterns.iter().map(|p| ascii_variant(p)).collect();
        let gates: Vec<String> = patterns.iter().map(|p| without_boundaries(p)).collect();
        let exact = patterns
            .iter()
            .zip(&gates)
            .map(|(p, gate)| {
                if gate == p {
                    Ok(None)
                } else {
                    compile(p).map(Some)
                }
            })
            .collect::<PyResult<_>>()?;
        Ok(Self {
            ascii: compile_set(&ascii)?,
            gates: compile_set(&gates)?,
            exact,
        })
    }

    /// Indices of the patterns that occur in `text`, in increasing order.
    fn occurring(&self, text: &str) -> Vec<usize> {
        let mut found = vec![false; self.exact.len()];
        self.mark(text, &mut found);
        found
            .iter()
            .enumerate()
            .filter(|(_, &f)| f)
            .map(|(i, _)| i)
            .collect()
    }

    /// Mark in `found` every pattern that occurs in `text`.
    fn mark(&self, text: &str, found: &mut [bool]) {
        if text.is_ascii() {
            for i in self.ascii.matches(text).iter() {
                found[i] = true;
            }
            return;
        }
        for i in self.gates.matches(text).iter() {
            found[i] |= self.exact[i]
                .as_ref()
                .is_none_or(|exact| exact.is_match(text));
        }
    }
}

/// Class bits of a character: word (`\w`), CJK (Han, Hiragana, Katakana), digit (`\d`).
const WORD: u8 = 1;
const CJK: u8 = 2;
const DIGIT: u8 = 4;

/// The character classes of the template tokeniser and the CJK probe.
///
/// Defined by patterns from the Python side and looked up in a table of the
/// Basic Multilingual Plane computed from them once, so tokenising costs a
/// lookup per character; characters beyond it ask the patterns.
struct CharClasses {
    bmp: Arc<Vec<u8>>,
    word: Regex,
    cjk: Regex,
    digit: Regex,
}

impl CharClasses {
    fn new(word: &str, cjk: &str, digit: &str) -> PyResult<Self> {
        let whole = |class: &str| compile(&format!("^(?:{class})$"));
        let mut classes = Self {
            bmp: Arc::new(Vec::new()),
            word: whole(word)?,
            cjk: whole(cjk)?,
            digit: whole(digit)?,
        };
        let bmp = (0..0x10000u32)
            .map(|cp| char::from_u32(cp).map_or(0, |c| classes.classify(c)))
            .collect();
        classes.bmp = Arc::new(bmp);
        Ok(classes)
    }

    fn classify(&self, c: char) -> u8 {
        let mut buf = [0u8; 4];
        let s = c.encode_utf8(&mut buf);
        let bit = |regex: &Regex, bit: u8| if regex.is_match(s) { bit } else { 0 };
        bit(&self.word, WORD) | bit(&self.cjk, CJK) | bit(&self.digit, DIGIT)
    }

    fn of(&self, c: char) -> u8 {
        match self.bmp.get(c as usize) {
            Some(&bits) => bits,
            None => self.classify(c),
        }
    }
}

/// Seeds of the hashes, one per fingerprint, so equal text in different roles
/// never gives equal fingerprints.
#[derive(Clone, Copy)]
struct Seeds {
    prompt: u64,
    head: u64,
    tail: u64,
    system: u64,
    token: u64,
}

/// Sizes of the template windows and of the MinHash shingling.
#[derive(Clone, Copy)]
struct Sizes {
    bands: usize,
    rows: usize,
    band_mix: u64,
    template_chars: usize,
    template_tokens: usize,
    lsh_max_chars: usize,
    min_token_bytes: usize,
    cjk_probe_chars: usize,
    simhash_salt: u64,
}

/// Everything the worker threads search with, shared by them. Each regex
/// keeps a pool of per-thread scratch space (its lazy DFA among it), which
/// outlives a call: a clone per thread and call would start every batch with
/// empty caches and determinize the large pattern sets afresh (measured:
/// 13 % of the kernel's time, against 2 % shared).
struct Engine {
    classes: CharClasses,
    /// Elicitation and topic patterns, searched together.
    patterns: PatternSet,
    /// Per family, its tiers as (index into `patterns`, weight).
    families: Vec<Vec<(usize, f32)>>,
    /// Per topic in priority order, the indexes of its alternatives in `patterns`.
    topics: Vec<Vec<usize>>,
    multipliers: Vec<u32>,
    sizes: Sizes,
    seeds: Seeds,
}

/// The signals of one chunk of rows, column by column.
#[derive(Default)]
struct Signals {
    chars: Vec<i32>,
    prompt_hash: Vec<u64>,
    head: Vec<u64>,
    tail: Vec<u64>,
    system_hash: Vec<u64>,
    scores: Vec<Vec<f32>>,
    topic: Vec<u8>,
    lsh: Vec<u64>,
    lsh_len: Vec<u8>,
    lsh_valid: Vec<bool>,
}

/// Byte index of the `n`-th character of `s` (its length if it has fewer).
fn char_index(s: &str, n: usize) -> usize {
    if s.len() <= n {
        return s.len(); // no more characters than bytes: no need to count them
    }
    if s.is_ascii() {
        return n;
    }
    s.char_indices().nth(n).map_or(s.len(), |(i, _)| i)
}

/// The last `n` characters of `s`.
fn last_chars(s: &str, n: usize) -> &str {
    if n == 0 {
        return "";
    }
    if s.len() <= n {
        return s;
    }
    if s.is_ascii() {
        return &s[s.len() - n..];
    }
    s.char_indices()
        .rev()
        .nth(n - 1)
        .map_or(s, |(i, _)| &s[i..])
}

/// A large-string column: UTF-8 values, offsets and validity.
#[derive(Clone, Copy)]
struct Strings<'a> {
    values: &'a [u8],
    offsets: &'a [i64],
    valid: &'a [bool],
}

impl<'a> Strings<'a> {
    /// The `i`-th string, `None` where null.
    fn get(&self, i: usize) -> Option<&'a str> {
        if !self.valid[i] {
            return None;
        }
        let bytes = &self.values[self.offsets[i] as usize..self.offsets[i + 1] as usize];
        // Arrow guarantees UTF-8; a malformed value is treated as empty text.
        Some(std::str::from_utf8(bytes).unwrap_or(""))
    }
}

impl Engine {
    /// The leading template tokens of `window`: its leading non-word
    /// characters, then up to `template_tokens` tokens, each with the
    /// non-word characters after it; "" when it has no token.
    ///
    /// A token is one CJK character or a run of other word characters: the
    /// regex `^\W*(?:(?:[CJK]|[\w--[CJK]]+)\W*){1,N}`, hand-written because
    /// the regex engines spend microseconds on that bounded repetition.
    fn head_tokens<'a>(&self, window: &'a str) -> &'a str {
        let mut chars = window
            .char_indices()
            .map(|(i, c)| (i + c.len_utf8(), self.classes.of(c)));
        let mut chars = chars.by_ref().peekable();
        while chars.next_if(|&(_, k)| k & WORD == 0).is_some() {}
        let (mut tokens, mut end) = (0, 0);
        while tokens < self.sizes.template_tokens {
            let Some((after, k)) = chars.next() else {
                break;
            };
            end = after;
            if k & CJK == 0 {
                while let Some((after, _)) = chars.next_if(|&(_, k)| k & WORD != 0 && k & CJK == 0)
                {
                    end = after;
                }
            }
            while let Some((after, _)) = chars.next_if(|&(_, k)| k & WORD == 0) {
                end = after;
            }
            tokens += 1;
        }
        &window[..end]
    }

    /// The trailing template tokens of `window`: from the start of the
    /// `template_tokens`-th token before its end (tokens as in
    /// [`Engine::head_tokens`]) to its end; "" when it has no token. The
    /// regex `(?:(?:[CJK]|[\w--[CJK]]+)\W*){1,N}$`, leftmost match.
    fn tail_tokens<'a>(&self, window: &'a str) -> &'a str {
        let n = self.sizes.template_tokens;
        // The last `n` token starts, in a ring (`slot` is `count % n`, kept
        // without a division per token).
        let mut starts = vec![0usize; n];
        let (mut count, mut slot, mut previous) = (0usize, 0usize, 0u8);
        for (i, c) in window.char_indices() {
            let k = self.classes.of(c);
            let joins_previous = k & CJK == 0 && previous & WORD != 0 && previous & CJK == 0;
            if k & WORD != 0 && !joins_previous {
                starts[slot] = i;
                count += 1;
                slot = if slot + 1 == n { 0 } else { slot + 1 };
            }
            previous = k;
        }
        match count {
            0 => "",
            c if c < n => &window[starts[0]..],
            _ => &window[starts[slot]..],
        }
    }

    /// XXH3 of template tokens with every run of digits replaced by `0`.
    fn template_sig(&self, tokens: &str, seed: u64, buf: &mut String) -> u64 {
        buf.clear();
        let mut in_digits = false;
        for c in tokens.chars() {
            let digit = self.classes.of(c) & DIGIT != 0;
            if !digit {
                buf.push(c);
            } else if !in_digits {
                buf.push('0');
            }
            in_digits = digit;
        }
        xxh3_64_with_seed(buf.as_bytes(), seed)
    }

    /// MinHash LSH band keys of the shingles of `text`, appended to `keys`;
    /// false when the text has no shingle (then nothing is appended).
    fn minhash(&self, text: &str, cjk: bool, minima: &mut [u32], keys: &mut Vec<u64>) -> bool {
        minima.fill(u32::MAX);
        let mut any = false;
        let mut add = |token: &[u8]| {
            if token.len() >= self.sizes.min_token_bytes {
                any = true;
                let h = xxh3_64_with_seed(token, self.seeds.token) as u32;
                for (m, a) in minima.iter_mut().zip(&self.multipliers) {
                    *m = (*m).min(h.wrapping_mul(*a));
                }
            }
        };
        if cjk {
            // Overlapping bigrams of the text without white space.
            let mut previous: Option<char> = None;
            let mut buf = [0u8; 8];
            for c in text.chars().filter(|c| !c.is_whitespace()) {
                if let Some(p) = previous {
                    let lp = p.encode_utf8(&mut buf).len();
                    let lc = c.encode_utf8(&mut buf[lp..]).len();
                    add(&buf[..lp + lc]);
                }
                previous = Some(c);
            }
        } else {
            for token in text.split(' ') {
                add(token.as_bytes());
            }
        }
        if !any {
            return false;
        }
        let rows = self.sizes.rows;
        for band in 0..self.sizes.bands {
            let mut key = band as u64 + 1;
            for &m in &minima[band * rows..(band + 1) * rows] {
                key = key.wrapping_mul(self.sizes.band_mix).wrapping_add(m as u64);
            }
            keys.push(key);
        }
        true
    }

    /// Band keys from a gateway's 64-bit SimHash (16 hex digits), appended to
    /// `keys`: chunk `j` of four 16-bit chunks becomes `(j + 1) * salt + chunk`.
    /// Returns the number of keys, `None` when it is not 16 characters long.
    fn simhash(&self, simhash: &str, keys: &mut Vec<u64>) -> Option<u8> {
        let simhash = simhash.trim();
        if simhash.chars().count() != 16 {
            return None;
        }
        let mut n = 0;
        for (j, chunk) in simhash.as_bytes().chunks(4).enumerate() {
            let digits = std::str::from_utf8(chunk)
                .ok()
                .filter(|d| d.bytes().all(|b| b.is_ascii_hexdigit()));
            if let Some(value) = digits.and_then(|d| u64::from_str_radix(d, 16).ok()) {
                keys.push(value.wrapping_add((j as u64 + 1).wrapping_mul(self.sizes.simhash_salt)));
                n += 1;
            }
        }
        Some(n)
    }

    /// Signals of rows `range` of the prompt, system-prompt and SimHash columns.
    fn chunk(&self, columns: [Strings; 3], range: std::ops::Range<usize>) -> Signals {
        let [prompt, system, simhash] = columns;
        let mut out = Signals {
            scores: vec![Vec::with_capacity(range.len()); self.families.len()],
            ..Default::default()
        };
        let mut found = vec![false; self.patterns.exact.len()];
        let mut minima = vec![0u32; self.multipliers.len()];
        let mut buf = String::new();
        let other = self.topics.len() as u8;
        // Requests share a few system prompts (an application's, a campaign
        // tool's): the patterns each contains are searched once per chunk, not
        // once per request. Bounded, for inputs where every one differs.
        let mut system_hits: HashMap<&str, Vec<usize>> = HashMap::new();
        for i in range {
            let system_text = system.get(i);
            out.system_hash.push(system_text.map_or(0, |s| {
                xxh3_64_with_seed(s.trim().as_bytes(), self.seeds.system)
            }));
            let Some(text) = prompt.get(i) else {
                out.chars.push(0);
                out.prompt_hash.push(0);
                out.head.push(0);
                out.tail.push(0);
                for scores in &mut out.scores {
                    scores.push(0.0);
                }
                out.topic.push(other);
                let keys = simhash.get(i).and_then(|h| self.simhash(h, &mut out.lsh));
                out.lsh_len.push(keys.unwrap_or(0));
                out.lsh_valid.push(keys.is_some());
                continue;
            };
            let lower = text.to_lowercase();
            out.chars.push(text.chars().count() as i32);
            out.prompt_hash.push(xxh3_64_with_seed(
                lower.trim().as_bytes(),
                self.seeds.prompt,
            ));
            let template_chars = self.sizes.template_chars;
            let head = self.head_tokens(&lower[..char_index(&lower, template_chars)]);
            out.head
                .push(self.template_sig(head, self.seeds.head, &mut buf));
            let tail = self.tail_tokens(last_chars(&lower, template_chars));
            out.tail
                .push(self.template_sig(tail, self.seeds.tail, &mut buf));

            // Topics are mentioned by the prompt; elicitation by the prompt or
            // the system prompt.
            found.fill(false);
            self.patterns.mark(&lower, &mut found);
            let topic = self
                .topics
                .iter()
                .position(|alts| alts.iter().any(|&p| found[p]));
            out.topic.push(topic.map_or(other, |t| t as u8));
            if let Some(system_text) = system_text.filter(|s| !s.is_empty()) {
                if !system_hits.contains_key(system_text) {
                    if system_hits.len() >= SYSTEM_PROMPT_CACHE {
                        system_hits.clear();
                    }
                    let hits = self.patterns.occurring(&system_text.to_lowercase());
                    system_hits.insert(system_text, hits);
                }
                for &p in &system_hits[system_text] {
                    found[p] = true;
                }
            }
            for (tiers, scores) in self.families.iter().zip(&mut out.scores) {
                let best = tiers.iter().filter(|(p, _)| found[*p]).map(|(_, w)| *w);
                scores.push(best.fold(0.0, f32::max));
            }

            let probe = text.chars().take(self.sizes.cjk_probe_chars);
            let cjk = probe.into_iter().any(|c| self.classes.of(c) & CJK != 0);
            let shingled = &lower[..char_index(&lower, self.sizes.lsh_max_chars)];
            let has = self.minhash(shingled, cjk, &mut minima, &mut out.lsh);
            out.lsh_len
                .push(if has { self.sizes.bands as u8 } else { 0 });
            out.lsh_valid.push(true);
        }
        out
    }
}

/// The compiled patterns and parameters of the content signals.
#[pyclass(frozen)]
struct ContentKernel {
    engine: Engine,
}

type Column<'py> = (
    PyReadonlyArray1<'py, u8>,
    PyReadonlyArray1<'py, i64>,
    PyReadonlyArray1<'py, bool>,
);

fn strings<'a>(column: &'a Column<'_>) -> PyResult<Strings<'a>> {
    let strings = Strings {
        values: column.0.as_slice()?,
        offsets: column.1.as_slice()?,
        valid: column.2.as_slice()?,
    };
    let n = strings.valid.len();
    let last = strings.offsets.last().copied().unwrap_or(-1);
    if strings.offsets.len() != n + 1 || last < 0 || last as usize > strings.values.len() {
        return Err(PyValueError::new_err("malformed string column"));
    }
    Ok(strings)
}

#[pymethods]
impl ContentKernel {
    /// Compile the kernel.
    ///
    /// `families` holds, per signal family, its tiers as (pattern, weight);
    /// `topics`, per topic in priority order, its alternative patterns;
    /// `seeds` the hash seeds of prompt, head, tail, system prompt and token.
    #[new]
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (
        word, cjk, digit, families, topics, multipliers, bands, rows, band_mix,
        template_chars, template_tokens, lsh_max_chars, min_token_bytes, cjk_probe_chars, simhash_salt, seeds
    ))]
    fn new(
        word: &str,
        cjk: &str,
        digit: &str,
        families: Vec<Vec<(String, f32)>>,
        topics: Vec<Vec<String>>,
        multipliers: Vec<u32>,
        bands: usize,
        rows: usize,
        band_mix: u64,
        template_chars: usize,
        template_tokens: usize,
        lsh_max_chars: usize,
        min_token_bytes: usize,
        cjk_probe_chars: usize,
        simhash_salt: u64,
        seeds: (u64, u64, u64, u64, u64),
    ) -> PyResult<Self> {
        if multipliers.len() != bands * rows || bands == 0 || rows == 0 || bands > 255 {
            return Err(PyValueError::new_err(
                "one multiplier per MinHash function (bands * rows)",
            ));
        }
        if topics.len() >= u8::MAX as usize {
            return Err(PyValueError::new_err("at most 254 topics"));
        }
        let mut patterns: Vec<String> = Vec::new();
        let mut index = |pattern: &String| {
            patterns.push(pattern.clone());
            patterns.len() - 1
        };
        let families = families
            .iter()
            .map(|tiers| tiers.iter().map(|(p, w)| (index(p), *w)).collect())
            .collect();
        let topics = topics
            .iter()
            .map(|alts| alts.iter().map(&mut index).collect())
            .collect();
        let engine = Engine {
            classes: CharClasses::new(word, cjk, digit)?,
            patterns: PatternSet::new(&patterns)?,
            families,
            topics,
            multipliers,
            sizes: Sizes {
                bands,
                rows,
                band_mix,
                template_chars,
                template_tokens: template_tokens.max(1),
                lsh_max_chars,
                min_token_bytes,
                cjk_probe_chars,
                simhash_salt,
            },
            seeds: Seeds {
                prompt: seeds.0,
                head: seeds.1,
                tail: seeds.2,
                system: seeds.3,
                token: seeds.4,
            },
        };
        Ok(Self { engine })
    }

    /// Signals of every row of the prompt, system-prompt and SimHash columns.
    ///
    /// Each column is (UTF-8 values, int64 offsets, validity). Returns, in
    /// this order: prompt_chars (i32), prompt_hash, template_sig,
    /// template_tail_sig, system_prompt_hash (u64), one f32 array per family,
    /// the topic index (u8; the number of topics where none is mentioned),
    /// the band keys of every row, one row after the other (u64), the number
    /// of keys per row (u8) and whether the row has a key list (bool: from
    /// the text, or from the SimHash of a prompt sent without text). Values
    /// of null prompts (or system prompts) are 0, for the caller to mask.
    fn compute<'py>(
        &self,
        py: Python<'py>,
        prompt: Column<'py>,
        system: Column<'py>,
        simhash: Column<'py>,
        threads: usize,
    ) -> PyResult<Vec<Bound<'py, PyAny>>> {
        let columns = [strings(&prompt)?, strings(&system)?, strings(&simhash)?];
        let n = columns[0].valid.len();
        if columns.iter().any(|c| c.valid.len() != n) {
            return Err(PyValueError::new_err("columns of unequal length"));
        }
        // Threads only for batches worth their start-up.
        let parts = threads.clamp(1, n / 4096 + 1);
        let step = n.div_ceil(parts).max(1);
        let engine = &self.engine;
        let chunks: Vec<Signals> = py.detach(|| {
            // One part runs on the calling thread: a lake writer or decoding
            // worker calls from the same thread every time, whose regex caches
            // (lazy DFAs, kept per thread) then stay warm from call to call. A
            // fresh thread per call would take one of several pooled caches,
            // each of which had to learn the same states.
            if parts == 1 {
                return vec![engine.chunk(columns, 0..n)];
            }
            std::thread::scope(|scope| {
                let handles: Vec<_> = (0..n)
                    .step_by(step)
                    // The threads share the engine, not clones of it: a cloned
                    // regex starts with an empty lazy-DFA cache, which every
                    // batch then rebuilt; shared, the caches outlive the batch.
                    .map(|start| {
                        scope.spawn(move || engine.chunk(columns, start..(start + step).min(n)))
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().expect("content worker panicked"))
                    .collect()
            })
        });
        let mut all = Signals {
            scores: vec![Vec::with_capacity(n); engine.families.len()],
            ..Default::default()
        };
        for chunk in chunks {
            all.chars.extend(chunk.chars);
            all.prompt_hash.extend(chunk.prompt_hash);
            all.head.extend(chunk.head);
            all.tail.extend(chunk.tail);
            all.system_hash.extend(chunk.system_hash);
            for (into, from) in all.scores.iter_mut().zip(chunk.scores) {
                into.extend(from);
            }
            all.topic.extend(chunk.topic);
            all.lsh.extend(chunk.lsh);
            all.lsh_len.extend(chunk.lsh_len);
            all.lsh_valid.extend(chunk.lsh_valid);
        }
        let mut out: Vec<Bound<'py, PyAny>> = vec![
            all.chars.into_pyarray(py).into_any(),
            all.prompt_hash.into_pyarray(py).into_any(),
            all.head.into_pyarray(py).into_any(),
            all.tail.into_pyarray(py).into_any(),
            all.system_hash.into_pyarray(py).into_any(),
        ];
        out.extend(
            all.scores
                .into_iter()
                .map(|s| s.into_pyarray(py).into_any()),
        );
        out.push(all.topic.into_pyarray(py).into_any());
        out.push(all.lsh.into_pyarray(py).into_any());
        out.push(all.lsh_len.into_pyarray(py).into_any());
        out.push(all.lsh_valid.into_pyarray(py).into_any());
        Ok(out)
    }
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<ContentKernel>()?;
    m.add_function(wrap_pyfunction!(links::shared_value_edges, m)?)?;
    m.add_function(wrap_pyfunction!(links::shared_bins, m)?)?;
    m.add_function(wrap_pyfunction!(graph::components, m)?)?;
    m.add_function(wrap_pyfunction!(graph::neighbour_medians, m)?)?;
    m.add_function(wrap_pyfunction!(graph::closes_triangle, m)?)?;
    Ok(())
}
