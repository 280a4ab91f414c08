//! Output as Coder's CLI prints it: aligned tables with upper-case headers by default, `-c`
//! to pick columns (lower-case names with spaces, e.g. `"created at"`), and `-o json` printing
//! the server's objects (a list prints the JSON array).

use std::io::Write;

use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::error::{CliError, CliResult};

/// Writes to standard output, ignoring a closed pipe (`atrium users list | head -1`).
pub fn out(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    if !text.ends_with('\n') {
        let _ = stdout.write_all(b"\n");
    }
    let _ = stdout.flush();
}

/// Writes to standard error (progress, notes), ignoring failures.
pub fn note(text: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{text}");
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    #[default]
    Table,
    Json,
}

/// `-o/--output` and `-c/--column`.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct OutputArgs {
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Format::Table)]
    pub output: Format,
    /// Columns to show in the table (repeat the flag or separate with commas); an unknown
    /// column name lists the available ones.
    #[arg(short = 'c', long = "column", value_delimiter = ',', value_name = "COLUMN")]
    pub column: Vec<String>,
}

/// Only `-o` (commands whose output is one object without a column choice).
#[derive(clap::Args, Clone, Debug, Default)]
pub struct FormatArg {
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Format::Table)]
    pub output: Format,
}

/// Pretty JSON of anything serializable.
pub fn json(value: &impl Serialize) -> CliResult<String> {
    serde_json::to_string_pretty(value)
        .map_err(|e| CliError::msg(format!("cannot print JSON: {e}")))
}

/// A table: every column a command knows, which of them show by default, and the rows (one
/// cell per known column).
pub struct Table {
    pub columns: &'static [&'static str],
    pub defaults: &'static [&'static str],
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(columns: &'static [&'static str], defaults: &'static [&'static str]) -> Self {
        Table { columns, defaults, rows: Vec::new() }
    }

    pub fn push(&mut self, row: Vec<String>) {
        self.rows.push(row);
    }

    /// Renders the chosen columns (the defaults when none are chosen).
    pub fn render(&self, chosen: &[String]) -> CliResult<String> {
        let wanted: Vec<String> = if chosen.is_empty() {
            self.defaults.iter().map(|c| (*c).to_owned()).collect()
        } else {
            chosen.iter().map(|c| c.trim().to_lowercase()).filter(|c| !c.is_empty()).collect()
        };
        let mut indexes = Vec::with_capacity(wanted.len());
        for name in &wanted {
            match self.columns.iter().position(|c| c == name) {
                Some(i) => indexes.push(i),
                None => {
                    return Err(CliError::msg(format!(
                        "unknown column `{name}`; choose from: {}",
                        self.columns.join(", ")
                    )));
                }
            }
        }
        let header: Vec<String> = indexes.iter().map(|i| self.columns[*i].to_uppercase()).collect();
        let body: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| indexes.iter().map(|i| r.get(*i).cloned().unwrap_or_default()).collect())
            .collect();
        let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
        for row in &body {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let mut text = String::new();
        for row in std::iter::once(&header).chain(body.iter()) {
            let mut line = String::new();
            for (i, (cell, w)) in row.iter().zip(&widths).enumerate() {
                if i > 0 {
                    line.push_str("  ");
                }
                line.push_str(cell);
                if i + 1 < row.len() {
                    line.extend(std::iter::repeat_n(' ', w - cell.chars().count()));
                }
            }
            text.push_str(line.trim_end());
            text.push('\n');
        }
        Ok(text)
    }
}

/// Prints `items` as JSON (the array itself) or as the table `build` makes.
pub fn print_list(
    args: &OutputArgs,
    items: &impl Serialize,
    build: impl FnOnce() -> Table,
) -> CliResult<()> {
    match args.output {
        Format::Json => out(&json(items)?),
        Format::Table => out(&build().render(&args.column)?),
    }
    Ok(())
}

/// A JSON field as table text: strings as is, numbers and booleans printed, null as empty,
/// RFC 3339 times shortened to seconds.
pub fn cell(v: &Value, key: &str) -> String {
    text(&v[key])
}

pub fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => time_text(s).unwrap_or_else(|| s.clone()),
        Value::Array(items) => items.iter().map(text).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

/// `2026-12-01T17:56:34.123456Z` → `2026-12-01T17:56:34Z` (only for strings that are times).
fn time_text(s: &str) -> Option<String> {
    if s.len() < 20 || s.as_bytes().get(4).is_none_or(|b| *b != b'-') {
        return None;
    }
    let t = OffsetDateTime::parse(s, &Rfc3339).ok()?;
    time_of(t)
}

pub fn time_of(t: OffsetDateTime) -> Option<String> {
    let t = t.to_offset(time::UtcOffset::UTC).replace_nanosecond(0).ok()?;
    t.format(&Rfc3339).ok()
}

/// The `name` of each object in a JSON array, comma-joined (role lists).
pub fn names(v: &Value) -> String {
    v.as_array()
        .map(|a| a.iter().filter_map(|r| r["name"].as_str()).collect::<Vec<_>>().join(", "))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_and_picks_columns() {
        let mut t = Table::new(&["name", "created at", "status"], &["name", "status"]);
        t.push(vec!["alice".into(), "x".into(), "active".into()]);
        t.push(vec!["bo".into(), "y".into(), "suspended".into()]);
        assert_eq!(
            t.render(&[]).ok().as_deref(),
            Some("NAME   STATUS\nalice  active\nbo     suspended\n")
        );
        assert_eq!(
            t.render(&["created at".into(), "name".into()]).ok().as_deref(),
            Some("CREATED AT  NAME\nx           alice\ny           bo\n")
        );
        let err = t.render(&["nope".into()]).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("choose from: name, created at, status"), "{err}");
    }

    #[test]
    fn cells() {
        let v = serde_json::json!({"t": "2026-12-01T17:56:34.123456789Z", "n": 3, "b": true,
            "z": null, "a": ["x", "y"], "s": "plain"});
        assert_eq!(cell(&v, "t"), "2026-12-01T17:56:34Z");
        assert_eq!(cell(&v, "n"), "3");
        assert_eq!(cell(&v, "b"), "true");
        assert_eq!(cell(&v, "z"), "");
        assert_eq!(cell(&v, "missing"), "");
        assert_eq!(cell(&v, "a"), "x, y");
        assert_eq!(cell(&v, "s"), "plain");
    }
}
