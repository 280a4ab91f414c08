//! Terraform `variable` blocks read from a template's root module, as Coder's template
//! variables (name, type, description, default, required, sensitive). Only the part of HCL
//! these blocks need is understood: comments, quoted strings and heredocs, numbers, `true`,
//! `false`, `null`, lists and objects of those (a default must be a literal in Terraform), and
//! any other block or attribute skipped by bracket matching. A `type` is kept as its source text
//! (`list(string)`), as Coder's parser reports it.
//!
//! Coder's rules: `required` means "has no default" (an empty string is a default); a default
//! that is not a string is reported as its JSON; blocks are ordered by file name, then position.

use serde_json::Value;

/// A template variable as declared.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TemplateVariable {
    pub name: String,
    pub description: String,
    pub type_: String,
    /// A string default as is, any other default as JSON, `""` when there is none.
    pub default_value: String,
    pub required: bool,
    pub sensitive: bool,
}

/// The variables declared in `files` (name, contents) — the root module's `*.tf` files —
/// ordered by file name, then position. An error names the file and what is wrong.
pub fn parse_module(files: &[(String, String)]) -> Result<Vec<TemplateVariable>, String> {
    let mut sorted: Vec<&(String, String)> = files.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = Vec::new();
    for (name, text) in sorted {
        let tokens = lex(text).map_err(|e| format!("{name}: {e}"))?;
        parse_file(text, &tokens, &mut out).map_err(|e| format!("{name}: {e}"))?;
    }
    Ok(out)
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    /// A quoted string or heredoc; `literal` is false when it interpolates (`${` or `%{`).
    Str {
        value: String,
        literal: bool,
    },
    Number(String),
    Punct(char),
    Newline,
}

/// A token and the byte range of its source text.
type Spanned = (Tok, usize, usize);

fn lex(src: &str) -> Result<Vec<Spanned>, String> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let line_of = |at: usize| src[..at].matches('\n').count() + 1;
    while i < b.len() {
        let c = b[i];
        match c {
            b' ' | b'\t' | b'\r' => i += 1,
            b'\n' => {
                out.push((Tok::Newline, i, i + 1));
                i += 1;
            }
            b'#' => i = src[i..].find('\n').map_or(b.len(), |n| i + n),
            b'/' if b.get(i + 1) == Some(&b'/') => {
                i = src[i..].find('\n').map_or(b.len(), |n| i + n);
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let end = src[i + 2..]
                    .find("*/")
                    .ok_or_else(|| format!("line {}: unterminated comment", line_of(i)))?;
                // A block comment spanning lines still ends the line it started on.
                if src[i..i + 2 + end].contains('\n') {
                    out.push((Tok::Newline, i, i));
                }
                i += end + 4;
            }
            b'"' => {
                let (value, literal, end) =
                    string(src, i).map_err(|e| format!("line {}: {e}", line_of(i)))?;
                out.push((Tok::Str { value, literal }, i, end));
                i = end;
            }
            b'<' if src[i..].starts_with("<<") => {
                let (value, literal, end) =
                    heredoc(src, i).map_err(|e| format!("line {}: {e}", line_of(i)))?;
                out.push((Tok::Str { value, literal }, i, end));
                i = end;
            }
            b'0'..=b'9' => {
                let start = i;
                while i < b.len()
                    && (b[i].is_ascii_alphanumeric()
                        || b[i] == b'.'
                        || ((b[i] == b'+' || b[i] == b'-') && matches!(b[i - 1], b'e' | b'E')))
                {
                    i += 1;
                }
                out.push((Tok::Number(src[start..i].to_owned()), start, i));
            }
            c if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 => {
                let start = i;
                while i < b.len()
                    && (b[i].is_ascii_alphanumeric() || matches!(b[i], b'_' | b'-') || b[i] >= 0x80)
                {
                    i += 1;
                }
                out.push((Tok::Ident(src[start..i].to_owned()), start, i));
            }
            _ => {
                let ch = src[i..].chars().next().unwrap_or('?');
                out.push((Tok::Punct(ch), i, i + ch.len_utf8()));
                i += ch.len_utf8();
            }
        }
    }
    Ok(out)
}

/// A quoted string starting at `start` (the `"`): its value, whether it is a plain literal,
/// and where it ends.
fn string(src: &str, start: usize) -> Result<(String, bool, usize), String> {
    let mut value = String::new();
    let mut literal = true;
    let mut chars = src[start + 1..].char_indices().peekable();
    while let Some((k, c)) = chars.next() {
        match c {
            '"' => return Ok((value, literal, start + 1 + k + 1)),
            '\n' => return Err("unterminated string".into()),
            '\\' => {
                let (_, e) = chars.next().ok_or("unterminated string")?;
                match e {
                    'n' => value.push('\n'),
                    'r' => value.push('\r'),
                    't' => value.push('\t'),
                    '"' => value.push('"'),
                    '\\' => value.push('\\'),
                    'u' | 'U' => {
                        let len = if e == 'u' { 4 } else { 8 };
                        let hex: String =
                            (0..len).filter_map(|_| chars.next().map(|(_, h)| h)).collect();
                        let code = u32::from_str_radix(&hex, 16)
                            .ok()
                            .and_then(char::from_u32)
                            .ok_or_else(|| format!("invalid escape \\{e}{hex}"))?;
                        value.push(code);
                    }
                    other => return Err(format!("invalid escape \\{other}")),
                }
            }
            '$' | '%' if chars.peek().map(|p| p.1) == Some('{') => {
                literal = false;
                value.push(c);
            }
            // `$${` and `%%{` are a literal `${` and `%{`.
            '$' | '%' if chars.peek().map(|p| p.1) == Some(c) => {
                chars.next();
                value.push(c);
            }
            _ => value.push(c),
        }
    }
    Err("unterminated string".into())
}

/// A heredoc (`<<EOT` or `<<-EOT`, the latter with its common indentation removed).
fn heredoc(src: &str, start: usize) -> Result<(String, bool, usize), String> {
    let rest = &src[start + 2..];
    let (indented, rest) = match rest.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, rest),
    };
    let line_end = rest.find('\n').ok_or("unterminated heredoc")?;
    let marker = rest[..line_end].trim();
    if marker.is_empty() || !marker.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err("invalid heredoc marker".into());
    }
    let body_start = src.len() - rest.len() + line_end + 1;
    let mut lines = Vec::new();
    let mut at = body_start;
    loop {
        if at >= src.len() {
            return Err(format!("heredoc {marker} is not closed"));
        }
        let end = src[at..].find('\n').map_or(src.len(), |n| at + n);
        let line = &src[at..end];
        if line.trim() == marker {
            let mut value = String::new();
            let cut = if indented {
                lines
                    .iter()
                    .filter(|l: &&&str| !l.trim().is_empty())
                    .map(|l| l.len() - l.trim_start().len())
                    .min()
                    .unwrap_or(0)
            } else {
                0
            };
            for l in &lines {
                value.push_str(l.get(cut..).unwrap_or(""));
                value.push('\n');
            }
            let literal = !value.contains("${") && !value.contains("%{");
            return Ok((value, literal, end));
        }
        lines.push(line);
        at = end + 1;
    }
}

struct Cursor<'a> {
    src: &'a str,
    toks: &'a [Spanned],
    at: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at).map(|t| &t.0)
    }
    fn next(&mut self) -> Option<&Tok> {
        let t = self.toks.get(self.at).map(|t| &t.0);
        self.at += 1;
        t
    }
    fn skip_newlines(&mut self) {
        while self.peek() == Some(&Tok::Newline) {
            self.at += 1;
        }
    }
    /// Skips one expression: to the end of its line, across balanced brackets.
    fn skip_expression(&mut self) -> Result<(usize, usize), String> {
        let start = self.toks.get(self.at).map_or(0, |t| t.1);
        let mut end = start;
        let mut depth = 0usize;
        while let Some((tok, _, e)) = self.toks.get(self.at) {
            match tok {
                Tok::Newline if depth == 0 => break,
                Tok::Punct('}') if depth == 0 => break,
                Tok::Punct('(' | '[' | '{') => depth += 1,
                Tok::Punct(')' | ']' | '}') => depth -= 1,
                _ => {}
            }
            end = *e;
            self.at += 1;
        }
        if depth != 0 {
            return Err("unbalanced brackets".into());
        }
        Ok((start, end))
    }
    /// Skips a block body after its `{`, through the matching `}`.
    fn skip_block(&mut self) -> Result<(), String> {
        let mut depth = 1usize;
        while depth > 0 {
            match self.next() {
                Some(Tok::Punct('{')) => depth += 1,
                Some(Tok::Punct('}')) => depth -= 1,
                Some(_) => {}
                None => return Err("unclosed block".into()),
            }
        }
        Ok(())
    }
}

fn parse_file(src: &str, toks: &[Spanned], out: &mut Vec<TemplateVariable>) -> Result<(), String> {
    let mut c = Cursor { src, toks, at: 0 };
    loop {
        c.skip_newlines();
        let Some(tok) = c.next().cloned() else { return Ok(()) };
        let Tok::Ident(kind) = tok else {
            return Err(format!("unexpected {tok:?} at the top level"));
        };
        // Labels, then `{` (a block) or `=` (a top-level attribute, not valid Terraform).
        let mut labels = Vec::new();
        loop {
            match c.next().cloned() {
                Some(Tok::Str { value, .. }) => labels.push(value),
                Some(Tok::Ident(l)) => labels.push(l),
                Some(Tok::Punct('{')) => break,
                other => return Err(format!("`{kind}`: expected a block, found {other:?}")),
            }
        }
        if kind == "variable" {
            let [name] = labels.as_slice() else {
                return Err("a variable block takes exactly one label, its name".into());
            };
            out.push(parse_variable(&mut c, name)?);
        } else {
            c.skip_block()?;
        }
    }
}

fn parse_variable(c: &mut Cursor<'_>, name: &str) -> Result<TemplateVariable, String> {
    let mut v = TemplateVariable { name: name.to_owned(), required: true, ..Default::default() };
    loop {
        c.skip_newlines();
        match c.next().cloned() {
            Some(Tok::Punct('}')) => return Ok(v),
            Some(Tok::Ident(attr)) => match c.next().cloned() {
                Some(Tok::Punct('=')) => {
                    let at = c.at;
                    match attr.as_str() {
                        "default" => match literal(c)
                            .map_err(|e| format!("variable {name:?}: default: {e}"))?
                        {
                            Value::Null => {}
                            Value::String(s) => {
                                v.default_value = s;
                                v.required = false;
                            }
                            other => {
                                v.default_value = other.to_string();
                                v.required = false;
                            }
                        },
                        "description" => match literal(c) {
                            Ok(Value::String(s)) => v.description = s,
                            _ => {
                                return Err(format!(
                                    "variable {name:?}: description must be a string"
                                ));
                            }
                        },
                        "sensitive" => match literal(c) {
                            Ok(Value::Bool(b)) => v.sensitive = b,
                            _ => {
                                return Err(format!(
                                    "variable {name:?}: sensitive must be true or false"
                                ));
                            }
                        },
                        "type" => {
                            let (s, e) = c.skip_expression()?;
                            v.type_ = c.src[s..e].trim().to_owned();
                        }
                        _ => {
                            c.at = at;
                            c.skip_expression()?;
                        }
                    }
                }
                // A nested block (`validation { ... }`), possibly labelled.
                Some(Tok::Punct('{')) => c.skip_block()?,
                Some(Tok::Str { .. }) | Some(Tok::Ident(_)) => {
                    while !matches!(c.next(), Some(Tok::Punct('{')) | None) {}
                    c.skip_block()?;
                }
                other => {
                    return Err(format!("variable {name:?}: unexpected {other:?} after `{attr}`"));
                }
            },
            None => return Err(format!("variable {name:?}: unclosed block")),
            Some(other) => return Err(format!("variable {name:?}: unexpected {other:?}")),
        }
    }
}

/// A literal value: string, number, bool, null, list or object of literals.
fn literal(c: &mut Cursor<'_>) -> Result<Value, String> {
    c.skip_newlines();
    let value = match c.next().cloned() {
        Some(Tok::Str { value, literal: true }) => Value::String(value),
        Some(Tok::Str { literal: false, .. }) => {
            return Err("must be a literal value, not a template".into());
        }
        Some(Tok::Number(n)) => number(&n)?,
        Some(Tok::Punct('-')) => match c.next().cloned() {
            Some(Tok::Number(n)) => number(&format!("-{n}"))?,
            other => return Err(format!("unexpected {other:?}")),
        },
        Some(Tok::Ident(i)) if i == "true" => Value::Bool(true),
        Some(Tok::Ident(i)) if i == "false" => Value::Bool(false),
        Some(Tok::Ident(i)) if i == "null" => Value::Null,
        Some(Tok::Punct('[')) => {
            let mut items = Vec::new();
            loop {
                c.skip_newlines();
                if c.peek() == Some(&Tok::Punct(']')) {
                    c.next();
                    break;
                }
                items.push(literal(c)?);
                c.skip_newlines();
                match c.next() {
                    Some(Tok::Punct(',')) => {}
                    Some(Tok::Punct(']')) => break,
                    other => return Err(format!("expected `,` or `]`, found {other:?}")),
                }
            }
            Value::Array(items)
        }
        Some(Tok::Punct('{')) => {
            let mut map = serde_json::Map::new();
            loop {
                c.skip_newlines();
                let key = match c.next().cloned() {
                    Some(Tok::Punct('}')) => break,
                    Some(Tok::Ident(k)) | Some(Tok::Str { value: k, literal: true }) => k,
                    other => return Err(format!("expected an object key, found {other:?}")),
                };
                match c.next() {
                    Some(Tok::Punct('=' | ':')) => {}
                    other => return Err(format!("expected `=` after {key:?}, found {other:?}")),
                }
                map.insert(key, literal(c)?);
                if c.peek() == Some(&Tok::Punct(',')) {
                    c.next();
                }
            }
            Value::Object(map)
        }
        other => return Err(format!("must be a literal value, found {other:?}")),
    };
    Ok(value)
}

fn number(text: &str) -> Result<Value, String> {
    if let Ok(i) = text.parse::<i64>() {
        return Ok(Value::from(i));
    }
    text.parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
        .map(Value::Number)
        .ok_or_else(|| format!("invalid number {text}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(files: &[(&str, &str)]) -> Result<Vec<TemplateVariable>, String> {
        let owned: Vec<(String, String)> =
            files.iter().map(|(n, t)| ((*n).to_owned(), (*t).to_owned())).collect();
        parse_module(&owned)
    }

    fn var(name: &str) -> TemplateVariable {
        TemplateVariable { name: name.into(), required: true, ..Default::default() }
    }

    #[test]
    fn coders_parse_cases() {
        // The cases of Coder's own parser tests, with its answers.
        let got =
            parse(&[("main.tf", "variable \"A\" {\n description = \"Testing!\"\n}")]).unwrap();
        assert_eq!(got, [TemplateVariable { description: "Testing!".into(), ..var("A") }]);
        let got = parse(&[("main.tf", "variable \"A\" {\n default = \"wow\"\n}")]).unwrap();
        assert_eq!(
            got,
            [TemplateVariable { default_value: "wow".into(), required: false, ..var("A") }]
        );
        let got = parse(&[(
            "main.tf",
            "variable \"A\" {\n validation {\n condition = var.A == \"value\"\n }\n}",
        )])
        .unwrap();
        assert_eq!(got, [var("A")]);
        let got = parse(&[
            ("main2.tf", "variable \"baz\" { }\nvariable \"quux\" { }"),
            ("main1.tf", "variable \"foo\" { }\nvariable \"bar\" { }"),
        ])
        .unwrap();
        assert_eq!(got, [var("foo"), var("bar"), var("baz"), var("quux")]);
        let got = parse(&[("main.tf", "variable \"A\" {\n description = \"Testing!\"\n type = \tbool\n default = true\n sensitive = true\n}")]).unwrap();
        assert_eq!(
            got,
            [TemplateVariable {
                description: "Testing!".into(),
                type_: "bool".into(),
                default_value: "true".into(),
                required: false,
                sensitive: true,
                ..var("A")
            }]
        );
        let got = parse(&[(
            "main.tf",
            "variable \"A\" {\n type = string\n default = \"\"\n sensitive = true\n}",
        )])
        .unwrap();
        assert_eq!(got[0].default_value, "");
        assert!(!got[0].required, "an empty string is a default");
        let got = parse(&[("main.tf", "variable \"A\" {\n type = string\n sensitive = true\n}")])
            .unwrap();
        assert!(got[0].required && got[0].sensitive);
        assert!(parse(&[("main.tf", "a;sd;ajsd;lajsd;lasjdf;a")]).is_err());
    }

    #[test]
    fn the_rest_of_a_module_is_skipped_and_literals_read() {
        let src = r#"
# a comment with a "quote" and { brace
terraform { required_version = ">= 1.0" }
/* block
   comment { */
resource "terraform_data" "x" {
  input = { a = [1, 2], b = "${var.n}" }
  provisioner "local-exec" { command = "echo }" }
}
variable "list" {
  type    = list(string)
  default = ["a", "b"] // trailing
}
variable "obj" {
  type = object({ n = number, s = string })
  default = {
    n = 1.5
    "s" : "x\ty"
  }
}
variable "neg" {
  default = -3
  nullable = false
}
variable "doc" {
  description = <<-EOT
    Two
      lines
  EOT
  default = null
}
locals { y = "$${literal}" }
"#;
        let got = parse(&[("main.tf", src)]).unwrap();
        let names: Vec<&str> = got.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(names, ["list", "obj", "neg", "doc"]);
        assert_eq!(got[0].type_, "list(string)");
        assert_eq!(got[0].default_value, r#"["a","b"]"#);
        assert_eq!(got[1].type_, "object({ n = number, s = string })");
        assert_eq!(got[1].default_value, r#"{"n":1.5,"s":"x\ty"}"#);
        assert_eq!(got[2].default_value, "-3");
        assert_eq!(got[3].description, "Two\n  lines\n");
        assert!(got[3].required, "a null default is no default");
    }

    #[test]
    fn defaults_must_be_literals() {
        let e = parse(&[("v.tf", "variable \"a\" {\n default = \"${var.b}\"\n}")]).unwrap_err();
        assert!(e.contains("v.tf") && e.contains("literal"), "{e}");
        let e = parse(&[("v.tf", "variable \"a\" {\n default = upper(\"x\")\n}")]).unwrap_err();
        assert!(e.contains("literal"), "{e}");
        assert!(parse(&[("v.tf", "variable \"a\" {\n default = \"x\"")]).is_err());
        assert!(parse(&[("v.tf", "variable \"a\" \"b\" {}")]).is_err());
    }
}
