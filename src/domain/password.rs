//! How strong a password must be: long enough to resist guessing, not one kind of
//! character, not the email, not one of the passwords every list of leaked ones starts with.

/// The shortest password accepted.
pub const MIN_LENGTH: usize = 10;
/// Longer passwords only cost hashing time (argon2 takes any length).
pub const MAX_LENGTH: usize = 256;

const COMMON: &[&str] = &[
    "password", "passw0rd", "123456", "qwerty", "letmein", "welcome", "admin", "iloveyou",
    "monkey", "dragon", "football", "baseball", "sunshine", "princess", "abc123", "trustno1",
    "whatsapp", "tickhub", "changeme", "secret",
];

/// `Ok` when `password` is strong enough for the member with `email`; else the rule it
/// breaks, in words a person can act on.
pub fn check(password: &str, email: &str) -> Result<(), String> {
    let chars = password.chars().count();
    if chars < MIN_LENGTH {
        return Err(format!("must be at least {MIN_LENGTH} characters"));
    }
    if chars > MAX_LENGTH {
        return Err(format!("must be at most {MAX_LENGTH} characters"));
    }
    if password.contains('\0') {
        return Err("must not contain U+0000".into());
    }
    let lower = password.to_lowercase();
    let distinct: std::collections::HashSet<char> = lower.chars().collect();
    if distinct.len() < 4 {
        return Err("must not repeat the same few characters".into());
    }
    let classes = [
        password.chars().any(char::is_alphabetic),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_alphanumeric()),
    ];
    if classes.iter().filter(|c| **c).count() < 2 {
        return Err("must mix at least two of letters, digits and other characters".into());
    }
    let local = email.split('@').next().unwrap_or("").to_lowercase();
    if local.len() >= 3 && lower.contains(&local) {
        return Err("must not contain the email address".into());
    }
    let stripped: String = lower.chars().filter(|c| c.is_alphabetic()).collect();
    if COMMON
        .iter()
        .any(|c| lower.starts_with(c) && (stripped == *c || lower.len() <= c.len() + 4))
    {
        return Err("is too common".into());
    }
    // The same with its letters disguised ("p@ssw0rd") or other characters around it
    // ("2026password!"): a common word with a few characters added is still guessed early.
    let plain: String = lower.chars().map(unleet).collect();
    if COMMON
        .iter()
        .any(|c| (lower.contains(c) || plain.contains(c)) && chars - c.chars().count() < MIN_EXTRA)
    {
        return Err("is too common".into());
    }
    if chars - longest_sequence(&lower) < MIN_EXTRA {
        return Err("must not be mostly a keyboard or alphabet sequence".into());
    }
    Ok(())
}

/// Characters a password needs besides a common word or a sequence inside it.
const MIN_EXTRA: usize = 6;

/// Runs guessers try first, forwards and backwards.
const SEQUENCES: &[&str] = &[
    "abcdefghijklmnopqrstuvwxyz",
    "01234567890",
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "qazwsxedcrfvtgbyhnujmikolp",
];

/// The usual letter-for-digit disguises undone.
fn unleet(c: char) -> char {
    match c {
        '0' => 'o',
        '1' | '!' | '|' => 'i',
        '3' => 'e',
        '4' | '@' => 'a',
        '5' | '$' => 's',
        '7' | '+' => 't',
        '8' => 'b',
        '9' => 'g',
        c => c,
    }
}

/// The length (in characters) of the longest part of `lower` that runs along one of
/// `SEQUENCES`, either way; runs shorter than 3 do not count.
fn longest_sequence(lower: &str) -> usize {
    let p: Vec<char> = lower.chars().collect();
    let mut best = 0;
    for seq in SEQUENCES {
        for seq in [seq.to_string(), seq.chars().rev().collect::<String>()] {
            let s: Vec<char> = seq.chars().collect();
            for i in 0..p.len() {
                for j in 0..s.len() {
                    let mut n = 0;
                    while i + n < p.len() && j + n < s.len() && p[i + n] == s[j + n] {
                        n += 1;
                    }
                    best = best.max(n);
                }
            }
        }
    }
    if best >= 3 {
        best
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn accepts_reasonable_passwords() {
        for p in [
            "correct-horse-battery",
            "member-password-1",
            "Tr0ub4dor&3x",
            "n9x!vQ2#kLm",
        ] {
            assert_eq!(check(p, "someone@example.com"), Ok(()), "{p}");
        }
    }

    #[test]
    fn refuses_weak_ones_naming_the_rule() {
        let cases = [
            ("short1!", "at least"),
            ("aaaaaaaaaaaa1", "same few"),
            ("onlyletterslong", "two of"),
            ("12345678901234", "two of"),
            ("password1234", "too common"),
            ("Password!", "at least"),
            ("alice-2026-xyz", "email"),
        ];
        for (p, why) in cases {
            let e = check(p, "alice@example.com").expect_err(p);
            assert!(e.contains(why), "{p}: {e}");
        }
        assert!(check(&"ab1".repeat(100), "x@y.z").is_err());
    }

    #[test]
    fn refuses_disguised_common_words_and_sequences() {
        let cases = [
            ("p@ssw0rd123", "too common"),
            ("2026password!", "too common"),
            ("Adm1n-202!", "too common"),
            ("1234567890a!", "sequence"),
            ("asdfghjkl-1", "sequence"),
            ("zyxwvutsr-1", "sequence"),
            ("abcdefgh12", "sequence"),
        ];
        for (p, why) in cases {
            let e = check(p, "someone@example.com").expect_err(p);
            assert!(e.contains(why), "{p}: {e}");
        }
        // A sequence or a common word inside a long enough password is fine.
        for p in [
            "member-password-1",
            "s3cret-Passw0rd",
            "abc-kettle-banjo-7",
            "kettle-banjo-42",
        ] {
            assert_eq!(check(p, "someone@example.com"), Ok(()), "{p}");
        }
    }
}
