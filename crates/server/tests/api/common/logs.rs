//! The process-wide log subscriber of the test binary: captures every log line (so tests can
//! check what reaches the log) and counts the SQL statements each probed request runs.
//!
//! A request is probed by a `statement_probe=<name>` query parameter (the server ignores it);
//! every `sqlx::query` event logged inside that request's span counts towards `<name>`. Spans
//! follow the work onto sqlx's SQLite worker thread, so both backends count exactly, and
//! concurrent tests in one process (plain `cargo test`) never mix their counts.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

struct Installed {
    logs: Arc<Mutex<Vec<u8>>>,
    counts: Arc<Mutex<HashMap<String, u64>>>,
}

fn installed() -> &'static Installed {
    static INSTALLED: OnceLock<Installed> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let logs = Arc::new(Mutex::new(Vec::new()));
        let counts = Arc::new(Mutex::new(HashMap::new()));
        let writer = logs.clone();
        let subscriber = tracing_subscriber::registry()
            .with(
                tracing_subscriber::fmt::layer()
                    .with_ansi(false)
                    .with_writer(move || Captured(writer.clone())),
            )
            .with(StatementCounter { counts: counts.clone() })
            .with(tracing_subscriber::filter::LevelFilter::TRACE);
        tracing::subscriber::set_global_default(subscriber)
            .expect("only this module installs a global subscriber");
        Installed { logs, counts }
    })
}

/// Everything logged so far in this process.
pub fn captured_logs() -> Arc<Mutex<Vec<u8>>> {
    installed().logs.clone()
}

/// Starts counting (installs the subscriber); call before the probed requests.
pub fn count_statements() {
    installed();
}

/// The statements run so far by requests probed with `probe`.
pub fn statements(probe: &str) -> u64 {
    installed().counts.lock().unwrap().get(probe).copied().unwrap_or(0)
}

struct StatementCounter {
    counts: Arc<Mutex<HashMap<String, u64>>>,
}

/// The probe a request span belongs to.
struct Probe(String);

struct UriField(Option<String>);

impl Visit for UriField {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "uri" {
            self.0 = Some(format!("{value:?}"));
        }
    }
}

fn probe_of(uri: &str) -> Option<String> {
    let query = uri.split_once('?')?.1;
    query.split('&').find_map(|p| p.strip_prefix("statement_probe=").map(str::to_owned))
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for StatementCounter {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if attrs.metadata().name() != "request" {
            return;
        }
        let mut uri = UriField(None);
        attrs.record(&mut uri);
        if let (Some(probe), Some(span)) = (uri.0.as_deref().and_then(probe_of), ctx.span(id)) {
            span.extensions_mut().insert(Probe(probe));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if !event.metadata().target().starts_with("sqlx::query") {
            return;
        }
        let Some(scope) = ctx.event_scope(event) else { return };
        for span in scope {
            if let Some(Probe(probe)) = span.extensions().get::<Probe>() {
                *self.counts.lock().unwrap().entry(probe.clone()).or_default() += 1;
                return;
            }
        }
    }
}
