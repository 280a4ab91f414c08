//! Coder's password rules (`coderd/userpassword.Validate`): at least 52 bits of entropy as
//! go-password-validator estimates it, and at most 64 characters.

const REPLACE: &str = "!@$&*";
const SEPARATORS: &str = "_-., ";
const OTHER_SPECIAL: &str = "\"#%'()+/:;<=>?[\\]^{|}~";
const SEQUENCES: [&str; 5] =
    ["0123456789", "abcdefghijklmnopqrstuvwxyz", "qwertyuiop", "asdfghjkl", "zxcvbnm"];

/// The minimum entropy Coder asks for.
pub const MIN_ENTROPY_BITS: f64 = 52.0;

/// Why a password is refused; `Display` is Coder's text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("{0}")]
    Weak(String),
    #[error("password must be no more than 64 characters")]
    TooLong,
}

#[derive(Default)]
struct Classes {
    replace: bool,
    separator: bool,
    other_special: bool,
    lower: bool,
    upper: bool,
    digit: bool,
    unknown: usize,
}

fn classes(password: &str) -> Classes {
    let mut seen: Vec<char> = password.chars().collect();
    seen.sort_unstable();
    seen.dedup();
    let mut c = Classes::default();
    for ch in seen {
        if REPLACE.contains(ch) {
            c.replace = true;
        } else if SEPARATORS.contains(ch) {
            c.separator = true;
        } else if OTHER_SPECIAL.contains(ch) {
            c.other_special = true;
        } else if ch.is_ascii_lowercase() {
            c.lower = true;
        } else if ch.is_ascii_uppercase() {
            c.upper = true;
        } else if ch.is_ascii_digit() {
            c.digit = true;
        } else {
            c.unknown += 1;
        }
    }
    c
}

fn base(c: &Classes) -> usize {
    let mut base = c.unknown;
    let add = |flag: bool, n: usize| if flag { n } else { 0 };
    base += add(c.replace, REPLACE.len());
    base += add(c.separator, SEPARATORS.len());
    base += add(c.other_special, OTHER_SPECIAL.len());
    base += add(c.lower, 26) + add(c.upper, 26) + add(c.digit, 10);
    base
}

/// Length after dropping characters that add little: a third repeat of the same character, and
/// the third and later characters of a run along a common sequence.
fn effective_length(password: &str) -> usize {
    let chars: Vec<char> = password.chars().collect();
    let mut kept = 0;
    for (i, ch) in chars.iter().enumerate() {
        let repeat = i >= 2 && chars[i - 1] == *ch && chars[i - 2] == *ch;
        let lower = |c: char| c.to_ascii_lowercase();
        let in_sequence = i >= 2
            && SEQUENCES.iter().any(|seq| {
                let pos = |c: char| seq.find(lower(c));
                match (pos(chars[i - 2]), pos(chars[i - 1]), pos(*ch)) {
                    (Some(a), Some(b), Some(c)) => b == a + 1 && c == b + 1,
                    _ => false,
                }
            });
        if !repeat && !in_sequence {
            kept += 1;
        }
    }
    kept
}

/// The estimated entropy in bits.
pub fn entropy_bits(password: &str) -> f64 {
    let base = base(&classes(password));
    if base == 0 {
        return 0.0;
    }
    effective_length(password) as f64 * (base as f64).log2()
}

/// Checks a new password against Coder's rules.
pub fn validate_password(password: &str) -> Result<(), PasswordError> {
    if entropy_bits(password) < MIN_ENTROPY_BITS {
        let c = classes(password);
        let mut tips = Vec::new();
        if !c.other_special || !c.separator || !c.replace {
            tips.push("including more special characters");
        }
        if !c.lower {
            tips.push("using lowercase letters");
        }
        if !c.upper {
            tips.push("using uppercase letters");
        }
        if !c.digit {
            tips.push("using numbers");
        }
        let text = if tips.is_empty() {
            "insecure password, try using a longer password".to_owned()
        } else {
            format!("insecure password, try {} or using a longer password", tips.join(", "))
        };
        return Err(PasswordError::Weak(text));
    }
    if password.chars().count() > 64 {
        return Err(PasswordError::TooLong);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_and_strong_passwords() {
        assert!(validate_password("password").is_err());
        assert!(validate_password("abcdefghijkl").is_err());
        assert_eq!(
            validate_password("aaaaaaaaaaaaaaaa").unwrap_err().to_string(),
            "insecure password, try including more special characters, using uppercase letters, using numbers or using a longer password"
        );
        assert!(validate_password("SomeSecurePassword!").is_ok());
        assert!(validate_password("correct-horse-battery-staple").is_ok());
        assert_eq!(validate_password(&"aB3$".repeat(20)), Err(PasswordError::TooLong));
    }
}
