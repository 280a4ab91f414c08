//! Questions on the terminal. Every question has a flag that answers it; with no terminal on
//! standard input a question is never asked (it would hang a script): the command fails at
//! once, naming the flag.

use std::io::{BufRead, IsTerminal, Write};

use crate::error::{CliError, CliResult};

pub fn interactive() -> bool {
    std::io::stdin().is_terminal()
}

fn read_line(question: &str) -> CliResult<String> {
    let mut stderr = std::io::stderr().lock();
    let _ = write!(stderr, "{question} ");
    let _ = stderr.flush();
    drop(stderr);
    let mut line = String::new();
    let n = std::io::stdin().lock().read_line(&mut line)?;
    if n == 0 {
        return Err(CliError::Canceled);
    }
    Ok(line.trim().to_owned())
}

/// A yes/no confirmation; `yes` (the `-y/--yes` flag) skips it. Anything but `yes`/`y`
/// cancels.
pub fn confirm(question: &str, yes: bool) -> CliResult<()> {
    if yes {
        return Ok(());
    }
    if !interactive() {
        return Err(CliError::NeedsFlag { question: question.to_owned(), flag: "--yes".into() });
    }
    let answer = read_line(&format!("> {question} (yes/no)"))?;
    if matches!(answer.to_lowercase().as_str(), "yes" | "y") {
        Ok(())
    } else {
        Err(CliError::Canceled)
    }
}

/// The flag's value, or asks for it (with an optional default shown in brackets).
pub fn value(
    given: Option<&str>,
    question: &str,
    flag: &str,
    default: Option<&str>,
) -> CliResult<String> {
    if let Some(v) = given.filter(|v| !v.is_empty()) {
        return Ok(v.to_owned());
    }
    if !interactive() {
        return Err(CliError::NeedsFlag { question: question.to_owned(), flag: flag.to_owned() });
    }
    loop {
        let shown = match default {
            Some(d) if !d.is_empty() => format!("> {question} [{d}]"),
            _ => format!("> {question}"),
        };
        let answer = read_line(&shown)?;
        if !answer.is_empty() {
            return Ok(answer);
        }
        if let Some(d) = default {
            return Ok(d.to_owned());
        }
    }
}

/// A secret: the flag's value, or asked without echo (twice when `confirm_it`).
pub fn secret(
    given: Option<&str>,
    question: &str,
    flag: &str,
    confirm_it: bool,
) -> CliResult<String> {
    if let Some(v) = given.filter(|v| !v.is_empty()) {
        return Ok(v.to_owned());
    }
    if !interactive() {
        return Err(CliError::NeedsFlag { question: question.to_owned(), flag: flag.to_owned() });
    }
    let ask = |q: &str| {
        rpassword::prompt_password(format!("> {q} "))
            .map_err(|e| CliError::msg(format!("cannot read the password: {e}")))
    };
    loop {
        let first = ask(question)?;
        if first.is_empty() {
            continue;
        }
        if !confirm_it {
            return Ok(first);
        }
        if ask("Confirm password:")? == first {
            return Ok(first);
        }
        crate::output::note("Passwords do not match");
    }
}
