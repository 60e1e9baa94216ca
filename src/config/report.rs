//! Configuration errors as an operator reads them (CONTRACT §8): the file, the line and column
//! of the key, the key, and what was expected in plain words — never a profile name, a Rust
//! type or the parser's internals.

use std::path::{Path, PathBuf};

use figment::error::{Actual, Kind};
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

use super::ConfigError;

/// The file a configuration was read from, if any, with its text: what every error is placed in.
pub struct Source {
    pub file: Option<PathBuf>,
    text: Option<String>,
    /// What errors name when no line can be given: the file, or "environment".
    pub origin: String,
}

impl Source {
    /// Reads `explicit` (which must exist), else `default` if it exists; a YAML syntax error
    /// is reported here with its place.
    pub fn read(explicit: Option<&Path>, default: Option<&Path>) -> Result<Source, ConfigError> {
        let file = match explicit {
            Some(p) if !p.is_file() => {
                let name = p.display().to_string();
                return Err(ConfigError::new(
                    &name,
                    "the file does not exist or is not readable",
                ));
            }
            Some(p) => Some(p.to_path_buf()),
            None => default.filter(|p| p.is_file()).map(Path::to_path_buf),
        };
        let Some(f) = file else {
            return Ok(Source {
                file: None,
                text: None,
                origin: "environment".into(),
            });
        };
        let text = std::fs::read_to_string(&f).map_err(|e| {
            ConfigError::new(&f.display().to_string(), format!("cannot be read: {e}"))
        })?;
        if let Some((place, why)) = syntax_error(&text) {
            return Err(ConfigError::new(&origin(&f, Some(place)), why));
        }
        Ok(Source {
            origin: f.display().to_string(),
            file: Some(f),
            text: Some(text),
        })
    }

    /// `file, line L, column C` of `key`, or the origin when the file does not have it.
    fn located(&self, key: &str) -> String {
        match (&self.file, &self.text) {
            (Some(f), Some(t)) => origin(f, locate(t, key)),
            _ => self.origin.clone(),
        }
    }

    /// A value that did not parse: its key, its place (a line of the file, or the environment
    /// variable that set it) and what was expected.
    pub fn explain(&self, e: &figment::Error) -> ConfigError {
        let key = key_of(&e.path);
        let said = message(&e.kind);
        let text = if key.is_empty() {
            said
        } else {
            format!("{key}: {said}")
        };
        let from_file = e
            .metadata
            .as_ref()
            .and_then(|m| m.source.as_ref())
            .is_some_and(|s| s.file_path().is_some());
        let place = match key.as_str() {
            _ if from_file => self.located(&key),
            "database.url" => "environment variable DATABASE_URL".into(),
            "rabbitmq.url" => "environment variable AMQP_URL".into(),
            _ if key.is_empty() => self.origin.clone(),
            _ => format!("environment variable {}", variable_of(&key)),
        };
        ConfigError::new(&place, text)
    }

    /// A broken rule, placed at its key's line when the file has it (its message starts with
    /// the key).
    pub fn place_of(&self, mut e: ConfigError) -> ConfigError {
        let key = e.message.split([':', ' ']).next().unwrap_or_default();
        if self.file.is_some() && !key.is_empty() {
            e.origin = self.located(key);
        }
        e
    }
}

/// Where something is written in the file (1-based, as editors count).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    pub line: usize,
    pub column: usize,
}

impl From<Marker> for Place {
    fn from(m: Marker) -> Place {
        Place {
            line: m.line(),
            column: m.col() + 1,
        }
    }
}

/// `file, line L, column C` (or just the file when the place is unknown).
pub fn origin(file: &Path, place: Option<Place>) -> String {
    match place {
        Some(p) => format!("{}, line {}, column {}", file.display(), p.line, p.column),
        None => file.display().to_string(),
    }
}

/// The YAML syntax error in `text`, if any, with its place.
pub fn syntax_error(text: &str) -> Option<(Place, String)> {
    let mut sink = Keys::default();
    let mut parser = Parser::new_from_str(text);
    match parser.load(&mut sink, false) {
        Ok(()) => None,
        Err(e) => Some((
            Place::from(*e.marker()),
            format!("YAML syntax: {}", e.info()),
        )),
    }
}

/// Where the key `path` (`server.port`, `console.menu[2].price`) is written in `text`; for a
/// key the file does not have, the nearest enclosing key that it does.
pub fn locate(text: &str, path: &str) -> Option<Place> {
    let mut keys = Keys::default();
    Parser::new_from_str(text).load(&mut keys, false).ok()?;
    let mut wanted = path.to_string();
    loop {
        if let Some((_, m)) = keys.found.iter().find(|(k, _)| *k == wanted) {
            return Some(Place::from(*m));
        }
        let cut = wanted.rfind(['.', '['])?;
        wanted.truncate(cut);
    }
}

/// Every key and list item of a YAML document with its place, by path.
#[derive(Default)]
struct Keys {
    stack: Vec<Frame>,
    found: Vec<(String, Marker)>,
}

enum Frame {
    /// In a mapping: the key whose value is being read, if any.
    Map(Option<String>),
    Seq(usize),
}

impl Keys {
    fn path(&self) -> String {
        let mut p = String::new();
        for f in &self.stack {
            match f {
                Frame::Map(Some(k)) => {
                    if !p.is_empty() {
                        p.push('.');
                    }
                    p.push_str(k);
                }
                Frame::Map(None) => {}
                Frame::Seq(i) => p.push_str(&format!("[{i}]")),
            }
        }
        p
    }

    /// A value starts here: a list item is recorded by its index.
    fn value_starts(&mut self, at: Marker) {
        if let Some(Frame::Seq(_)) = self.stack.last() {
            self.found.push((self.path(), at));
        }
    }

    /// A value (scalar, list or mapping) was read whole: its parent moves on.
    fn value_ends(&mut self) {
        match self.stack.last_mut() {
            Some(Frame::Map(key)) => *key = None,
            Some(Frame::Seq(i)) => *i += 1,
            None => {}
        }
    }
}

impl MarkedEventReceiver for Keys {
    fn on_event(&mut self, event: Event, at: Marker) {
        match event {
            Event::Scalar(text, ..) => {
                if let Some(Frame::Map(key @ None)) = self.stack.last_mut() {
                    *key = Some(text);
                    let path = self.path();
                    self.found.push((path, at));
                } else {
                    self.value_starts(at);
                    self.value_ends();
                }
            }
            Event::MappingStart(..) => {
                self.value_starts(at);
                self.stack.push(Frame::Map(None));
            }
            Event::SequenceStart(..) => {
                self.value_starts(at);
                self.stack.push(Frame::Seq(0));
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
                self.value_ends();
            }
            Event::Alias(_) => {
                self.value_starts(at);
                self.value_ends();
            }
            _ => {}
        }
    }
}

/// A key path as figment gives it (`["console", "menu", "2", "price"]`), written as the
/// messages write it (`console.menu[2].price`).
pub fn key_of(path: &[String]) -> String {
    let mut key = String::new();
    for part in path {
        if part.parse::<usize>().is_ok() {
            key.push_str(&format!("[{part}]"));
        } else {
            if !key.is_empty() {
                key.push('.');
            }
            key.push_str(part);
        }
    }
    key
}

/// What a value should have been, in words (serde names Rust types).
fn expected(what: &str) -> String {
    let whole = |max: &str| format!("a whole number from 0 to {max}");
    match what {
        "u8" => whole("255"),
        "u16" => whole("65535"),
        "u32" => whole("4294967295"),
        "u64" | "usize" | "u128" => "a whole number, 0 or more".into(),
        "i8" | "i16" | "i32" | "i64" | "isize" => "a whole number".into(),
        "f32" | "f64" => "a number".into(),
        "a boolean" | "bool" => "true or false".into(),
        "a string" | "string" | "a borrowed string" => "text".into(),
        "a sequence" => "a list".into(),
        "a map" => "a block of keys".into(),
        s if s.starts_with("struct ") => "a block of keys".into(),
        s if s.starts_with("a duration") => "a duration like 8s, 250ms or 1m30s".into(),
        s => s.trim_start_matches("one of ").to_string(),
    }
}

fn found(actual: &Actual) -> String {
    match actual {
        Actual::Str(s) => format!("{s:?}"),
        Actual::Map => "a block of keys".into(),
        Actual::Seq => "a list".into(),
        Actual::Unit => "nothing".into(),
        Actual::Unsigned(n) => n.to_string(),
        Actual::Signed(n) => n.to_string(),
        Actual::Float(n) => n.to_string(),
        Actual::Bool(b) => b.to_string(),
        other => other.to_string(),
    }
}

/// One figment error's message, without its key or place.
pub fn message(kind: &Kind) -> String {
    match kind {
        Kind::InvalidType(actual, want) | Kind::InvalidValue(actual, want) => {
            let expected = expected(want);
            // YAML reads `password: 007` as the number 7; quoted, it stays the text written.
            let quote = match actual {
                Actual::Unsigned(_) | Actual::Signed(_) | Actual::Float(_) | Actual::Bool(_)
                    if expected == "text" =>
                {
                    " (put it in quotes)"
                }
                _ => "",
            };
            format!("expected {expected}, found {}{quote}", found(actual))
        }
        Kind::UnknownField(field, known) => format!(
            "unknown key {field:?}; the keys here are: {}",
            known.join(", ")
        ),
        Kind::UnknownVariant(value, known) => {
            format!("{value:?} is not one of: {}", known.join(", "))
        }
        Kind::MissingField(field) => format!("the key {field:?} is missing"),
        Kind::DuplicateField(field) => format!("the key {field:?} is given twice"),
        Kind::InvalidLength(n, want) => format!("expected {want}, found {n} entries"),
        Kind::Message(m) => m.clone(),
        Kind::ISizeOutOfRange(n) => format!("{n} is too large"),
        Kind::USizeOutOfRange(n) => format!("{n} is too large"),
        Kind::Unsupported(actual) | Kind::UnsupportedKey(actual, _) => {
            format!("{} cannot be used here", found(actual))
        }
    }
}

/// The environment variable that sets `key` (`server.port` → `RESTAURANT_SERVER__PORT`).
pub fn variable_of(key: &str) -> String {
    format!("RESTAURANT_{}", key.to_ascii_uppercase().replace('.', "__"))
}
