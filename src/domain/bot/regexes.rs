//! The regex triggers of one folding variant, and the limits on them.
//!
//! Speed: a `RegexSet` runs as a lazy DFA, which cannot evaluate a Unicode word boundary
//! (`\b`, `\B`, `\b{start}`, `\<`, …) on non-ASCII text; it gives up and lets the PikeVM
//! redo the search, which takes over 100 µs for 50 regexes and one short message. So:
//! - without word boundaries, the patterns form one `RegexSet`, used for every message;
//! - with them, the set is compiled with every word boundary made ASCII-only
//!   (`(?-u:\b)`) and used for a message whose non-ASCII characters are all non-word
//!   characters (emoji, symbols, punctuation such as `—`; after accent folding, that is
//!   nearly all Latin-script text): on such a text both kinds of boundary fall in exactly
//!   the same places, so the answer is the same. A message with non-ASCII letters
//!   (Cyrillic, Greek, CJK, …; or accents, for accent-sensitive regexes) is matched by
//!   the exact regexes one by one instead, best-ranked first, stopping at the first
//!   match: each uses its own literal prefilter and a backtracker, about ten times faster
//!   than the set's fallback.

use regex::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};
use regex_syntax::ast::{self, AssertionKind, Ast};

use super::normalize::{fold_pattern, Folding};

/// The compiled size one regex may reach; past it the pattern is refused when saved.
/// One Unicode `\w` takes about 50 KiB, so ordinary patterns fit many times over, while
/// `\w{1000}` (about 50 MiB) is refused.
pub const REGEX_SIZE_LIMIT: usize = 1024 * 1024;
/// The lazy DFA's cache for a whole set; generous so a set rarely falls back to slower
/// engines, bounded so a bot cannot take unbounded memory.
const REGEX_SET_DFA_LIMIT: usize = 8 * 1024 * 1024;

/// The regex source as matched: for an accent-insensitive regex, the pattern's own
/// accents are dropped, since the text it runs on has none.
pub(crate) fn regex_source(pattern: &str, accent_sensitive: bool) -> String {
    fold_pattern(pattern, !accent_sensitive)
}

/// Compiles one regex as matching will, under the size limit; the error is for humans.
pub(crate) fn check_regex(
    pattern: &str,
    case_sensitive: bool,
    accent_sensitive: bool,
) -> Result<(), String> {
    let source = regex_source(pattern, accent_sensitive);
    match RegexBuilder::new(&source)
        .case_insensitive(!case_sensitive)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
    {
        Ok(_) => Ok(()),
        Err(regex::Error::CompiledTooBig(limit)) => Err(format!(
            "invalid regex: too large once compiled (over {} KiB)",
            limit / 1024
        )),
        Err(e) => Err(format!("invalid regex: {e}")),
    }
}

/// `pattern` with every word-boundary assertion made ASCII-only, or `None` when it has
/// none (or does not parse; then the set's own compile reports it).
pub(crate) fn ascii_word_boundaries(pattern: &str) -> Option<String> {
    let mut ast = ast::parse::Parser::new().parse(pattern).ok()?;
    if !make_boundaries_ascii(&mut ast) {
        return None;
    }
    let mut out = String::with_capacity(pattern.len() + 16);
    ast::print::Printer::new().print(&ast, &mut out).ok()?;
    Some(out)
}

/// Rewrites in place; true when something changed.
fn make_boundaries_ascii(node: &mut Ast) -> bool {
    match node {
        Ast::Assertion(a) => {
            let word = !matches!(
                a.kind,
                AssertionKind::StartLine
                    | AssertionKind::EndLine
                    | AssertionKind::StartText
                    | AssertionKind::EndText
            );
            if word {
                let span = a.span;
                let inner = std::mem::replace(node, Ast::empty(span));
                *node = Ast::group(ast::Group {
                    span,
                    kind: ast::GroupKind::NonCapturing(ast::Flags {
                        span,
                        items: vec![
                            ast::FlagsItem {
                                span,
                                kind: ast::FlagsItemKind::Negation,
                            },
                            ast::FlagsItem {
                                span,
                                kind: ast::FlagsItemKind::Flag(ast::Flag::Unicode),
                            },
                        ],
                    }),
                    ast: Box::new(inner),
                });
            }
            word
        }
        Ast::Repetition(r) => make_boundaries_ascii(&mut r.ast),
        Ast::Group(g) => make_boundaries_ascii(&mut g.ast),
        Ast::Alternation(a) => a
            .asts
            .iter_mut()
            .fold(false, |changed, n| make_boundaries_ascii(n) | changed),
        Ast::Concat(c) => c
            .asts
            .iter_mut()
            .fold(false, |changed, n| make_boundaries_ascii(n) | changed),
        Ast::Empty(_)
        | Ast::Flags(_)
        | Ast::Literal(_)
        | Ast::Dot(_)
        | Ast::ClassUnicode(_)
        | Ast::ClassPerl(_)
        | Ast::ClassBracketed(_) => false,
    }
}

/// True when every non-ASCII character of `text` is a non-word character, so Unicode and
/// ASCII word boundaries agree on it.
fn word_chars_are_ascii(text: &str) -> bool {
    text.is_ascii()
        || text
            .chars()
            .all(|c| c.is_ascii() || !regex_syntax::is_word_character(c))
}

/// The regex triggers of one folding variant.
#[derive(Debug)]
pub(crate) struct RegexGroup {
    pub folding: Folding,
    /// Per pattern, the trigger's rank, ascending (best first).
    ranks: Vec<u32>,
    /// The best rank in `ranks`.
    pub best: u32,
    /// All patterns; with ASCII word boundaries when `exact` is set.
    set: RegexSet,
    /// The patterns one by one, as written, when any has a Unicode word boundary.
    exact: Option<Vec<Regex>>,
}

fn build_set(sources: &[String], case_insensitive: bool) -> Result<RegexSet, regex::Error> {
    RegexSetBuilder::new(sources)
        .case_insensitive(case_insensitive)
        .size_limit(REGEX_SIZE_LIMIT.saturating_mul(sources.len()))
        .dfa_size_limit(REGEX_SET_DFA_LIMIT)
        .build()
}

fn build_one(source: &str, case_insensitive: bool) -> Result<Regex, regex::Error> {
    RegexBuilder::new(source)
        .case_insensitive(case_insensitive)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
}

impl RegexGroup {
    /// `sources` are prepared by [`regex_source`]; `ranks` pair with them, ascending.
    pub fn new(folding: Folding, sources: Vec<String>, ranks: Vec<u32>) -> Result<Self, String> {
        let invalid = |e: regex::Error| format!("triggers: invalid regex: {e}");
        let best = ranks.first().copied().unwrap_or(u32::MAX);
        let ascii: Vec<Option<String>> = sources.iter().map(|s| ascii_word_boundaries(s)).collect();
        if ascii.iter().any(Option::is_some) {
            let exact = sources
                .iter()
                .map(|s| build_one(s, folding.case))
                .collect::<Result<Vec<_>, _>>()
                .map_err(invalid)?;
            let rewritten: Vec<String> = ascii
                .into_iter()
                .zip(&sources)
                .map(|(a, s)| a.unwrap_or_else(|| s.clone()))
                .collect();
            // The rewritten set is only a speed-up; should it not build, the exact set
            // serves every message.
            if let Ok(set) = build_set(&rewritten, folding.case) {
                return Ok(RegexGroup {
                    folding,
                    ranks,
                    best,
                    set,
                    exact: Some(exact),
                });
            }
        }
        Ok(RegexGroup {
            folding,
            set: build_set(&sources, folding.case).map_err(invalid)?,
            ranks,
            best,
            exact: None,
        })
    }

    /// The best rank, better than `than`, of a pattern matching `text` (folded as
    /// `self.folding`).
    pub fn best_match(&self, text: &str, than: u32) -> Option<u32> {
        match &self.exact {
            Some(exact) if !word_chars_are_ascii(text) => self
                .ranks
                .iter()
                .zip(exact)
                .take_while(|(&rank, _)| rank < than)
                .find(|(_, re)| re.is_match(text))
                .map(|(&rank, _)| rank),
            // Set matches come in pattern order, and ranks ascend with it.
            _ => self
                .set
                .matches(text)
                .iter()
                .next()
                .map(|i| self.ranks[i])
                .filter(|&rank| rank < than),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_boundaries_become_ascii() {
        assert_eq!(
            ascii_word_boundaries(r"\bprice\b").as_deref(),
            Some(r"(?-u:\b)price(?-u:\b)")
        );
        assert_eq!(
            ascii_word_boundaries(r"(?:a\B|\b{start}x)+").as_deref(),
            Some(r"(?:a(?-u:\B)|(?-u:\b{start})x)+")
        );
        assert_eq!(ascii_word_boundaries(r"^\d+$"), None);
        // An escaped backslash before b is a literal, not a boundary.
        assert_eq!(ascii_word_boundaries(r"a\\b"), None);
        assert_eq!(ascii_word_boundaries(r"(unclosed"), None);
    }

    #[test]
    fn non_ascii_word_characters_are_noticed() {
        assert!(word_chars_are_ascii("plain text"));
        assert!(word_chars_are_ascii("oi 😊 — “ok” 🙏"));
        assert!(!word_chars_are_ascii("привет"));
        assert!(!word_chars_are_ascii("preço"));
        assert!(!word_chars_are_ascii("你好"));
    }

    fn group(patterns: &[&str]) -> RegexGroup {
        let sources = patterns.iter().map(|p| p.to_string()).collect();
        let ranks = (0..patterns.len() as u32).collect();
        RegexGroup::new(Folding::FULL, sources, ranks).unwrap()
    }

    fn best(g: &RegexGroup, text: &str) -> Option<u32> {
        g.best_match(text, u32::MAX)
    }

    #[test]
    fn both_roads_give_the_same_answers() {
        let g = group(&[r"\bok\b", r"\bпривет\b", r"^\d+$", r"\Bk\b"]);
        assert!(g.exact.is_some());
        for (text, want) in [
            // ASCII word characters only: the rewritten set.
            ("ok 😊", Some(0)),
            ("book 😊", Some(3)),
            ("😊 k", None),
            ("12345", Some(2)),
            // Non-ASCII letters: the exact regexes, with Unicode boundaries.
            ("okя", None),
            ("ok я", Some(0)),
            ("bookя", None),
            ("скажи привет", Some(1)),
            ("приветы", None),
        ] {
            assert_eq!(best(&g, text), want, "{text}");
        }
        // Only ranks better than the best so far count, on both roads.
        assert_eq!(g.best_match("ok 😊", 0), None);
        assert_eq!(g.best_match("book 😊", 3), None);
        assert_eq!(g.best_match("ok я", 0), None);
        assert_eq!(g.best_match("book я", 4), Some(3));
        assert_eq!(g.best_match("book я", 3), None);

        let plain = group(&[r"^\d+$", "x+"]);
        assert!(plain.exact.is_none());
        assert_eq!(best(&plain, "12"), Some(0));
        assert_eq!(plain.best_match("12", 0), None);
        assert_eq!(best(&plain, "xя"), Some(1));
    }

    #[test]
    fn a_bad_pattern_is_an_error_either_way() {
        for patterns in [vec![r"\bok\b".to_string(), "(".into()], vec!["(".into()]] {
            let e = RegexGroup::new(Folding::FULL, patterns, vec![0, 1]).unwrap_err();
            assert!(e.starts_with("triggers: invalid regex"), "{e}");
        }
    }
}
