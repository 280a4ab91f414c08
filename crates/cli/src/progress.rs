//! A tiny progress spinner for builds. It is drawn on standard output only when that is a
//! terminal (never into a pipe, a file or a script's capture), on its own last line: every
//! log line printed through it clears the spinner first and redraws it below.

use std::io::{IsTerminal, Write};
use std::time::Instant;

const FRAMES: &[char] = &['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
/// Return to the line's start and erase it.
const CLEAR: &str = "\r\x1b[2K";

pub struct Spinner<W: Write = std::io::Stdout> {
    out: W,
    /// Whether to draw at all (a terminal); lines are printed either way.
    enabled: bool,
    frame: usize,
    message: String,
    started: Instant,
    drawn: bool,
}

impl Spinner {
    /// A spinner on standard output, drawn only when it is a terminal.
    pub fn stdout(message: impl Into<String>) -> Self {
        let out = std::io::stdout();
        let enabled = out.is_terminal();
        Spinner::new(out, enabled, message)
    }
}

impl<W: Write> Spinner<W> {
    pub fn new(out: W, enabled: bool, message: impl Into<String>) -> Self {
        let mut s = Spinner {
            out,
            enabled,
            frame: 0,
            message: message.into(),
            started: Instant::now(),
            drawn: false,
        };
        s.draw();
        s
    }

    /// The next frame.
    pub fn tick(&mut self) {
        self.frame = (self.frame + 1) % FRAMES.len();
        self.draw();
    }

    pub fn set_message(&mut self, message: impl Into<String>) {
        self.message = message.into();
        self.draw();
    }

    /// Prints one line above the spinner. Write errors (a closed pipe) are ignored, as
    /// [`crate::output::out`] does.
    pub fn line(&mut self, text: &str) {
        self.clear();
        let _ = self.out.write_all(text.as_bytes());
        if !text.ends_with('\n') {
            let _ = self.out.write_all(b"\n");
        }
        let _ = self.out.flush();
        self.draw();
    }

    /// Removes the spinner for good (also done on drop, so an error leaves a clean line).
    pub fn finish(&mut self) {
        self.clear();
        self.enabled = false;
    }

    fn draw(&mut self) {
        if !self.enabled {
            return;
        }
        let secs = self.started.elapsed().as_secs();
        let _ = write!(self.out, "{CLEAR}{} {} [{secs}s]", FRAMES[self.frame], self.message);
        let _ = self.out.flush();
        self.drawn = true;
    }

    fn clear(&mut self) {
        if self.drawn {
            let _ = write!(self.out, "{CLEAR}");
            let _ = self.out.flush();
            self.drawn = false;
        }
    }
}

impl<W: Write> Drop for Spinner<W> {
    fn drop(&mut self) {
        self.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::Spinner;

    #[test]
    fn off_a_terminal_only_the_lines_are_written() {
        let mut buf = Vec::new();
        {
            let mut s = Spinner::new(&mut buf, false, "Building");
            s.tick();
            s.line("==> Provisioning");
            s.set_message("still building");
            s.line("done\n");
            s.finish();
        }
        assert_eq!(String::from_utf8(buf).unwrap(), "==> Provisioning\ndone\n");
    }

    #[test]
    fn on_a_terminal_lines_go_above_the_spinner_and_it_is_cleared_at_the_end() {
        let mut buf = Vec::new();
        {
            let mut s = Spinner::new(&mut buf, true, "Starting ws");
            s.tick();
            s.line("a log line");
        }
        let text = String::from_utf8(buf).unwrap();
        assert!(
            text.starts_with("\r\x1b[2K⠋ Starting ws [0s]\r\x1b[2K⠙ Starting ws [0s]"),
            "{text:?}"
        );
        assert!(text.contains("\r\x1b[2Ka log line\n\r\x1b[2K⠙ Starting ws"), "{text:?}");
        assert!(text.ends_with("\r\x1b[2K"), "dropped clean: {text:?}");
    }
}
