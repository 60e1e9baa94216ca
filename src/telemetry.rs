//! Log lines exactly as CONTRACT §9: one JSON object per line with `timestamp`, `level`,
//! `service`, `action`, `message`, `hostname`, `request_id`, and `error: {type, msg, stack}` on
//! ERROR lines. `request_id`, `order_number` and `worker_name` are taken from the enclosing spans
//! too, so a handler's `info!` needs no repetition. Fields outside the contract go to `details`.
//!
//! The writer is injectable: stdout in headless modes, a rolling file in the console.

use std::fmt::Debug;
use std::io::Write;

use chrono::{SecondsFormat, Utc};
use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// Fields lifted from spans into every event beneath them.
const SPAN_KEYS: [&str; 3] = ["request_id", "order_number", "worker_name"];
/// Top-level fields an event may carry; anything else lands in `details`.
const TOP_KEYS: [&str; 7] = [
    "action",
    "message",
    "request_id",
    "order_number",
    "worker_name",
    "duration_ms",
    "details",
];

/// Writes contract log lines for one service.
pub struct JsonLines<W> {
    service: &'static str,
    hostname: String,
    /// The `request_id` of lines no request caused (start-up, shutdown), unique per process.
    process_request_id: String,
    writer: W,
}

impl<W> JsonLines<W> {
    pub fn new(service: &'static str, writer: W) -> Self {
        JsonLines {
            service,
            hostname: gethostname::gethostname().to_string_lossy().into_owned(),
            process_request_id: format!(
                "startup-{}",
                &uuid::Uuid::new_v4().simple().to_string()[..8]
            ),
            writer,
        }
    }
}

/// The filter used unless `RUST_LOG` says otherwise: our own INFO, libraries' warnings.
pub fn default_filter() -> EnvFilter {
    EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new("info,sqlx=warn,hyper=warn,tower_http=warn,tower_governor=warn")
    })
}

/// Installs JSON lines on stdout as the global subscriber (headless modes).
pub fn init_stdout(service: &'static str) {
    let _ = tracing_subscriber::registry()
        .with(JsonLines::new(service, std::io::stdout).with_filter(default_filter()))
        .try_init();
}

/// Installs JSON lines on a daily rolling file in `dir` (the console: the terminal is the
/// screen). Keep the guard alive until exit so the last lines are written.
pub fn init_file(
    service: &'static str,
    dir: &std::path::Path,
) -> std::io::Result<(
    tracing_appender::non_blocking::WorkerGuard,
    std::path::PathBuf,
)> {
    // The log holds customers' names: the folder is the user's alone, and so are its files.
    let mut tightened = crate::files::private_dir(dir)?;
    let appender = tracing_appender::rolling::daily(dir, "console.log");
    tightened.extend(crate::files::private_files_in(dir)?);
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let _ = tracing_subscriber::registry()
        .with(JsonLines::new(service, writer).with_filter(default_filter()))
        .try_init();
    for p in tightened {
        tracing::warn!(action = "permissions_tightened", path = %p.display(), "others could read the console's log; now only this user can");
    }
    Ok((guard, dir.join("console.log.<date>")))
}

/// Installs JSON lines on stderr (for `notify`, whose stdout is the notification lines).
pub fn init_stderr(service: &'static str) {
    let _ = tracing_subscriber::registry()
        .with(JsonLines::new(service, std::io::stderr).with_filter(default_filter()))
        .try_init();
}

#[derive(Default)]
struct SpanFields(Map<String, Value>);

#[derive(Default)]
struct Collect {
    fields: Map<String, Value>,
    error: Option<(String, String)>,
}

impl Visit for Collect {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.fields
            .insert(field.name().into(), Value::String(format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.fields
            .insert(field.name().into(), Value::String(value.into()));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.fields.insert(field.name().into(), value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.fields.insert(field.name().into(), value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.fields.insert(field.name().into(), value.into());
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.fields.insert(field.name().into(), value.into());
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        let mut stack = Vec::new();
        let mut source = value.source();
        while let Some(s) = source {
            stack.push(s.to_string());
            source = s.source();
        }
        self.error = Some((value.to_string(), stack.join("\ncaused by: ")));
        self.fields
            .insert(field.name().into(), Value::String(value.to_string()));
    }
}

impl<S, W> Layer<S> for JsonLines<W>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + 'static,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut collect = Collect::default();
        attrs.record(&mut collect);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(SpanFields(collect.fields));
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let mut collect = Collect::default();
        values.record(&mut collect);
        if let Some(span) = ctx.span(id) {
            let mut ext = span.extensions_mut();
            if let Some(fields) = ext.get_mut::<SpanFields>() {
                fields.0.extend(collect.fields);
            }
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let level = *event.metadata().level();
        let mut line = self.head(level);
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                if let Some(fields) = span.extensions().get::<SpanFields>() {
                    for key in SPAN_KEYS {
                        if let Some(v) = fields.0.get(key) {
                            line.insert(key.into(), v.clone());
                        }
                    }
                }
            }
        }
        let mut collect = Collect::default();
        event.record(&mut collect);
        let error_type = collect.fields.remove("error_type");
        let error_field = collect.fields.remove("error");
        add_fields(&mut line, collect.fields);
        line.entry("message").or_insert_with(|| "".into());
        line.entry("action")
            .or_insert_with(|| event.metadata().target().replace("::", "_").into());
        if level == Level::ERROR || collect.error.is_some() || error_field.is_some() {
            let error = error_object(&line, collect.error, error_field, error_type);
            line.insert("error".into(), error);
        }
        let mut bytes = Value::Object(line).to_string().into_bytes();
        bytes.push(b'\n');
        // One write per line so concurrent lines never interleave.
        let _ = self.writer.make_writer().write_all(&bytes);
    }
}

impl<W> JsonLines<W> {
    /// The fields every line starts with (CONTRACT §6).
    fn head(&self, level: Level) -> Map<String, Value> {
        let mut line = Map::new();
        let now = Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true);
        line.insert("timestamp".into(), now.into());
        line.insert("level".into(), level_name(level).into());
        line.insert("service".into(), self.service.into());
        line.insert("hostname".into(), self.hostname.clone().into());
        line.insert("request_id".into(), self.process_request_id.clone().into());
        line
    }
}

/// The contract's own keys go at the top of the line; the rest into `details`.
fn add_fields(line: &mut Map<String, Value>, fields: Map<String, Value>) {
    let mut details = Map::new();
    for (k, v) in fields {
        if TOP_KEYS.contains(&k.as_str()) {
            line.insert(k, v);
        } else {
            details.insert(k, v);
        }
    }
    if details.is_empty() {
        return;
    }
    match line.get_mut("details") {
        Some(Value::Object(d)) => d.extend(details),
        _ => {
            line.insert("details".into(), Value::Object(details));
        }
    }
}

/// `error: {type, msg, stack}`: from a recorded `dyn Error` (with its chain as the stack),
/// else from an `error` field, else from the message.
fn error_object(
    line: &Map<String, Value>,
    recorded: Option<(String, String)>,
    error_field: Option<Value>,
    error_type: Option<Value>,
) -> Value {
    let (msg, stack) = recorded.unwrap_or_else(|| {
        let msg = error_field
            .as_ref()
            .and_then(Value::as_str)
            .or_else(|| line.get("message").and_then(Value::as_str))
            .unwrap_or_default()
            .to_string();
        (msg, String::new())
    });
    let kind = error_type
        .as_ref()
        .and_then(Value::as_str)
        .unwrap_or("Error")
        .to_string();
    serde_json::json!({ "type": kind, "msg": msg, "stack": stack })
}

fn level_name(level: Level) -> &'static str {
    match level {
        Level::ERROR => "ERROR",
        Level::WARN => "WARN",
        Level::INFO => "INFO",
        _ => "DEBUG",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Buffer {
        type Writer = Buffer;
        fn make_writer(&'a self) -> Buffer {
            self.clone()
        }
    }

    fn capture(f: impl FnOnce()) -> Vec<Value> {
        let buf = Buffer::default();
        let subscriber =
            tracing_subscriber::registry().with(JsonLines::new("order-service", buf.clone()));
        tracing::subscriber::with_default(subscriber, f);
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn every_line_has_the_mandatory_fields_and_span_context() {
        let lines = capture(|| {
            let span = tracing::info_span!("request", request_id = "abc-123");
            let _g = span.enter();
            tracing::info!(
                action = "order_received",
                order_number = "ORD_1",
                total = 3,
                "order received"
            );
        });
        let l = &lines[0];
        for key in [
            "timestamp",
            "level",
            "service",
            "action",
            "message",
            "hostname",
            "request_id",
        ] {
            assert!(l.get(key).is_some(), "missing {key} in {l}");
        }
        assert_eq!(l["level"], "INFO");
        assert_eq!(l["service"], "order-service");
        assert_eq!(l["request_id"], "abc-123");
        assert_eq!(l["order_number"], "ORD_1");
        assert_eq!(l["details"]["total"], 3);
        let ts = l["timestamp"].as_str().unwrap();
        assert!(chrono::DateTime::parse_from_rfc3339(ts).is_ok());
        assert_eq!(
            ts.len(),
            "2024-12-16T10:00:00.000Z".len(),
            "milliseconds, UTC: {ts}"
        );
    }

    #[test]
    fn error_lines_carry_type_msg_and_stack() {
        let lines = capture(|| {
            let e = std::io::Error::other("disk on fire");
            tracing::error!(
                action = "db_failed",
                error = &e as &dyn std::error::Error,
                error_type = "io",
                "write failed"
            );
            tracing::error!(action = "plain", "no error value");
        });
        assert_eq!(lines[0]["error"]["type"], "io");
        assert_eq!(lines[0]["error"]["msg"], "disk on fire");
        assert!(lines[0]["error"]["stack"].is_string());
        assert_eq!(lines[1]["error"]["msg"], "no error value");
        assert!(
            lines[1]["request_id"]
                .as_str()
                .unwrap()
                .starts_with("startup-")
        );
    }
}
