//! Counts in words: the one place the engine picks singular or plural, so "5 problem" or
//! "1 things" cannot be written by one caller that got it slightly wrong. The verdict, the
//! report, durations and ages all go through [`count`] (or [`form`] for a verb that agrees).

/// The form that agrees with `n`: `one` for exactly 1, `many` otherwise (English says
/// "0 problems").
pub fn form<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 {
        one
    } else {
        many
    }
}

/// "1 check", "2 checks", "0 checks".
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", form(n, one, many))
}

/// A count of a unit whose plural just adds an s: "1 day", "3 days".
pub fn units(n: u64, unit: &str) -> String {
    let n = usize::try_from(n).unwrap_or(usize::MAX);
    count(n, unit, &format!("{unit}s"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_is_singular_everything_else_plural() {
        assert_eq!(count(1, "problem", "problems"), "1 problem");
        assert_eq!(count(5, "problem", "problems"), "5 problems");
        assert_eq!(count(0, "problem", "problems"), "0 problems");
        assert_eq!(
            count(2, "thing to improve", "things to improve"),
            "2 things to improve"
        );
        assert_eq!(form(1, "logs", "log"), "logs");
        assert_eq!(form(3, "logs", "log"), "log");
        assert_eq!(units(1, "day"), "1 day");
        assert_eq!(units(90, "second"), "90 seconds");
    }
}
