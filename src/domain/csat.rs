//! Customer satisfaction: the question asked when a conversation is resolved, and what a
//! customer's reply says as a score from 1 to 5 (docs/csat.md). Pure: no I/O.

use std::sync::LazyLock;

/// Asked when a session has CSAT on and no question of its own.
pub const DEFAULT_QUESTION: &str =
    "How would you rate our help? Reply with a number from 1 (bad) to 5 (excellent).";

/// How long after the question a reply is still read as its answer.
pub const ANSWER_WINDOW_MS: i64 = 24 * 3600 * 1000;

/// The longest question a session may set (it is a WhatsApp message).
pub const MAX_QUESTION_CHARS: usize = 1000;

/// A score counted as satisfied in `csat_percent` (4 and 5, the usual CSAT rule).
pub fn is_satisfied(score: i64) -> bool {
    score >= 4
}

static NUMERIC: LazyLock<regex::Regex> = LazyLock::new(|| {
    // A digit alone, or with "out of five" / "stars" in English, Spanish or Portuguese.
    regex::Regex::new(
        r"^(?:nota\s*)?([1-5])(?:\s*(?:/|out of|of|de|em)\s*5)?(?:\s*(?:stars?|estrellas?|estrelas?|points?|puntos?|pontos?))?$",
    )
    .unwrap_or_else(|e| unreachable!("a fixed pattern: {e}"))
});

/// Words and phrases that are a rating by themselves.
const WORDS: &[(&str, u8)] = &[
    ("excellent", 5),
    ("excelent", 5),
    ("great", 5),
    ("amazing", 5),
    ("perfect", 5),
    ("awesome", 5),
    ("very good", 5),
    ("excelente", 5),
    ("perfecto", 5),
    ("perfeito", 5),
    ("ótimo", 5),
    ("otimo", 5),
    ("muy bien", 5),
    ("muito bom", 5),
    ("good", 4),
    ("bueno", 4),
    ("buena", 4),
    ("bien", 4),
    ("bom", 4),
    ("boa", 4),
    ("ok", 3),
    ("okay", 3),
    ("fine", 3),
    ("average", 3),
    ("regular", 3),
    ("normal", 3),
    ("so so", 3),
    ("so-so", 3),
    ("bad", 2),
    ("poor", 2),
    ("not good", 2),
    ("malo", 2),
    ("mala", 2),
    ("mal", 2),
    ("ruim", 2),
    ("terrible", 1),
    ("awful", 1),
    ("horrible", 1),
    ("very bad", 1),
    ("muy malo", 1),
    ("pésimo", 1),
    ("pesimo", 1),
    ("péssimo", 1),
    ("pessimo", 1),
    ("horrível", 1),
    ("horrivel", 1),
    ("muito ruim", 1),
];

/// Thanks a customer may add after the rating ("5, thanks!").
const THANKS: &[&str] = &[
    "thank you very much",
    "thank you",
    "thanks",
    "thx",
    "ty",
    "muchas gracias",
    "gracias",
    "muito obrigado",
    "muito obrigada",
    "obrigado",
    "obrigada",
];

fn emoji_score(c: char) -> Option<u8> {
    Some(match c {
        '😀' | '😃' | '😄' | '😁' | '😍' | '🤩' | '🥰' | '👍' | '💯' | '❤' => 5,
        '🙂' | '😊' | '☺' => 4,
        '😐' | '😶' | '😑' => 3,
        '🙁' | '😕' | '😞' | '☹' | '😟' => 2,
        '😡' | '😠' | '🤬' | '😤' | '👎' => 1,
        _ => return None,
    })
}

fn is_star(c: char) -> bool {
    matches!(c, '⭐' | '🌟' | '★')
}

/// Variation selectors and skin tones change how an emoji looks, not what it says.
fn is_modifier(c: char) -> bool {
    matches!(
        c,
        '\u{FE0E}' | '\u{FE0F}' | '\u{200D}' | '\u{1F3FB}'..='\u{1F3FF}'
    )
}

fn trim_noise(s: &str) -> &str {
    s.trim_matches(|c: char| {
        c.is_whitespace() || matches!(c, '.' | '!' | '?' | ',' | ';' | ':' | '~')
    })
}

/// The text without a trailing "thanks" (and the punctuation around it).
fn without_thanks(s: &str) -> &str {
    let t = trim_noise(s);
    for th in THANKS {
        if let Some(rest) = t.strip_suffix(th) {
            // Only a whole word: "party" does not end in "ty" for this purpose.
            if rest.is_empty() || rest.ends_with(|c: char| !c.is_alphanumeric()) {
                return trim_noise(rest);
            }
        }
    }
    t
}

/// The score a customer's reply gives, or `None` when it is not (only) a rating: a
/// question, a new request, a number out of range. Accepted: a digit 1–5 alone or as
/// "4/5", "4 out of 5", "4 stars" (also Spanish and Portuguese); 1–5 star emoji; one kind
/// of face or thumb emoji (😀 5, 🙂 4, 😐 3, 🙁 2, 😡 1, 👍 5, 👎 1), repeated or not; a word
/// or short phrase (excellent, good, ok, bad, terrible, and their Spanish and Portuguese
/// counterparts); any of them followed by thanks.
pub fn parse(reply: &str) -> Option<u8> {
    let lower: String = reply
        .chars()
        .filter(|c| !is_modifier(*c))
        .flat_map(char::to_lowercase)
        .collect();
    let text = without_thanks(&lower);
    if text.is_empty() || text.chars().count() > 40 {
        return None;
    }
    let symbols: Vec<char> = text.chars().filter(|c| !c.is_whitespace()).collect();
    if symbols.iter().all(|c| is_star(*c)) {
        return u8::try_from(symbols.len())
            .ok()
            .filter(|n| (1..=5).contains(n));
    }
    if let Some(first) = symbols.first().and_then(|c| emoji_score(*c)) {
        let same = symbols.iter().all(|c| emoji_score(*c) == Some(first));
        return same.then_some(first);
    }
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if let Some(m) = NUMERIC.captures(&collapsed) {
        return m.get(1).and_then(|d| d.as_str().parse().ok());
    }
    // "4 ⭐⭐⭐⭐" and "⭐⭐⭐⭐ 4" say the same twice.
    let no_stars: String = collapsed.chars().filter(|c| !is_star(*c)).collect();
    if no_stars.len() < collapsed.len() {
        if let Some(m) = NUMERIC.captures(no_stars.trim()) {
            return m.get(1).and_then(|d| d.as_str().parse().ok());
        }
    }
    WORDS
        .iter()
        .find(|(w, _)| *w == collapsed)
        .map(|(_, score)| *score)
}

/// The question a session asks: its own, or the default.
pub fn question(custom: Option<&str>) -> &str {
    custom
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .unwrap_or(DEFAULT_QUESTION)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_alone_and_with_their_scale() {
        for (text, score) in [
            ("5", 5),
            ("1", 1),
            (" 3 ", 3),
            ("4.", 4),
            ("5!", 5),
            ("5/5", 5),
            ("4 / 5", 4),
            ("3 out of 5", 3),
            ("4 de 5", 4),
            ("5 em 5", 5),
            ("5 stars", 5),
            ("2 star", 2),
            ("4 estrellas", 4),
            ("5 estrelas", 5),
            ("nota 4", 4),
            ("5, thanks!", 5),
            ("4 thank you", 4),
            ("5 gracias", 5),
            ("5 obrigado", 5),
            ("4 ⭐⭐⭐⭐", 4),
        ] {
            assert_eq!(parse(text), Some(score), "{text:?}");
        }
    }

    #[test]
    fn emoji() {
        for (text, score) in [
            ("⭐⭐⭐⭐", 4),
            ("⭐", 1),
            ("⭐⭐⭐⭐⭐", 5),
            ("⭐ ⭐ ⭐", 3),
            ("🌟🌟", 2),
            ("★★★", 3),
            ("😀", 5),
            ("😍😍", 5),
            ("🙂", 4),
            ("😊", 4),
            ("😐", 3),
            ("🙁", 2),
            ("☹️", 2),
            ("😡", 1),
            ("😡😡😡", 1),
            ("👍", 5),
            ("👍🏽", 5),
            ("👍👍", 5),
            ("👎", 1),
            ("👎🏻 ", 1),
            ("👍 thanks", 5),
        ] {
            assert_eq!(parse(text), Some(score), "{text:?}");
        }
    }

    #[test]
    fn words_in_three_languages() {
        for (text, score) in [
            ("Excellent", 5),
            ("excellent!!", 5),
            ("Great", 5),
            ("very good", 5),
            ("Very   Good", 5),
            ("good", 4),
            ("Good, thanks", 4),
            ("ok", 3),
            ("OK.", 3),
            ("bad", 2),
            ("Terrible", 1),
            ("awful", 1),
            ("excelente", 5),
            ("muy bien", 5),
            ("bueno", 4),
            ("regular", 3),
            ("malo", 2),
            ("pésimo", 1),
            ("ótimo", 5),
            ("bom", 4),
            ("ruim", 2),
            ("péssimo", 1),
            ("horrível", 1),
        ] {
            assert_eq!(parse(text), Some(score), "{text:?}");
        }
    }

    #[test]
    fn anything_else_is_not_an_answer() {
        for text in [
            "",
            "   ",
            "0",
            "6",
            "10",
            "15",
            "10/10",
            "6/5",
            "-1",
            "1.5",
            "5 minutes please",
            "my order 5 has not arrived",
            "I have another question",
            "ok but my order has not arrived",
            "good morning",
            "bad request?? what does this mean, can you call me back",
            "⭐⭐⭐⭐⭐⭐",
            "😀😡",
            "👍👎",
            "🎉",
            "hello",
            "thanks",
            "party",
            "five",
            "https://example.com/5",
            "5 5",
        ] {
            assert_eq!(parse(text), None, "{text:?}");
        }
    }

    #[test]
    fn the_question_falls_back_to_the_default() {
        assert_eq!(question(None), DEFAULT_QUESTION);
        assert_eq!(question(Some("  ")), DEFAULT_QUESTION);
        assert_eq!(question(Some("Rate us 1-5")), "Rate us 1-5");
        assert!(is_satisfied(4) && is_satisfied(5) && !is_satisfied(3));
    }
}
