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
//!   (Cyrillic, Greek, CJK, …; or accents, for accent-sensitive regexes) takes another
//!   road: a set of the patterns with their word boundaries removed (it matches wherever
//!   they do, and more) rules most of them out in one pass, and the rest are run as
//!   written, one by one, best-ranked first, stopping at the first match — each with its
//!   own literal prefilter and backtracker, about ten times faster than the PikeVM.

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
    rewrite_word_boundaries(pattern, &|span, assertion| {
        let unicode_off = vec![
            ast::FlagsItem {
                span,
                kind: ast::FlagsItemKind::Negation,
            },
            ast::FlagsItem {
                span,
                kind: ast::FlagsItemKind::Flag(ast::Flag::Unicode),
            },
        ];
        group(span, unicode_off, assertion)
    })
}

/// `pattern` without its word-boundary assertions (`None` when it has none): it matches
/// wherever `pattern` does, and more, so it can rule patterns out but not in.
pub(crate) fn without_word_boundaries(pattern: &str) -> Option<String> {
    rewrite_word_boundaries(pattern, &|span, _| {
        group(span, Vec::new(), Ast::empty(span))
    })
}

/// `(?flags:inner)`; a group, so that a repetition of it stays valid.
fn group(span: ast::Span, items: Vec<ast::FlagsItem>, inner: Ast) -> Ast {
    Ast::group(ast::Group {
        span,
        kind: ast::GroupKind::NonCapturing(ast::Flags { span, items }),
        ast: Box::new(inner),
    })
}

type Replace = dyn Fn(ast::Span, Ast) -> Ast;

fn rewrite_word_boundaries(pattern: &str, replace: &Replace) -> Option<String> {
    let mut ast = ast::parse::Parser::new().parse(pattern).ok()?;
    if !rewrite(&mut ast, replace) {
        return None;
    }
    let mut out = String::with_capacity(pattern.len() + 16);
    ast::print::Printer::new().print(&ast, &mut out).ok()?;
    Some(out)
}

/// Replaces the word-boundary assertions under `node`; true when there was one.
fn rewrite(node: &mut Ast, replace: &Replace) -> bool {
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
                let assertion = std::mem::replace(node, Ast::empty(span));
                *node = replace(span, assertion);
            }
            word
        }
        Ast::Repetition(r) => rewrite(&mut r.ast, replace),
        Ast::Group(g) => rewrite(&mut g.ast, replace),
        Ast::Alternation(a) => a
            .asts
            .iter_mut()
            .fold(false, |changed, n| rewrite(n, replace) | changed),
        Ast::Concat(c) => c
            .asts
            .iter_mut()
            .fold(false, |changed, n| rewrite(n, replace) | changed),
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
    /// For patterns with Unicode word boundaries, the road for text with non-ASCII letters.
    exact: Option<Exact>,
}

/// The patterns as written, one by one, and (to rule most of them out in one pass) the
/// set of them without word boundaries.
#[derive(Debug)]
struct Exact {
    each: Vec<Regex>,
    loose: Option<RegexSet>,
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
            let each = sources
                .iter()
                .map(|s| build_one(s, folding.case))
                .collect::<Result<Vec<_>, _>>()
                .map_err(invalid)?;
            let ascii_sources: Vec<String> = ascii
                .into_iter()
                .zip(&sources)
                .map(|(a, s)| a.unwrap_or_else(|| s.clone()))
                .collect();
            let loose_sources: Vec<String> = sources
                .iter()
                .map(|s| without_word_boundaries(s).unwrap_or_else(|| s.clone()))
                .collect();
            // Both sets are only speed-ups; should the rewritten one not build, the exact
            // set serves every message, and without the loose one every regex is tried.
            let loose = build_set(&loose_sources, folding.case).ok();
            if let Ok(set) = build_set(&ascii_sources, folding.case) {
                return Ok(RegexGroup {
                    folding,
                    ranks,
                    best,
                    set,
                    exact: Some(Exact { each, loose }),
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
            Some(exact) if !word_chars_are_ascii(text) => {
                let maybe = exact.loose.as_ref().map(|l| l.matches(text));
                (0..self.ranks.len())
                    .take_while(|&i| self.ranks[i] < than)
                    .filter(|&i| maybe.as_ref().is_none_or(|m| m.matched(i)))
                    .find(|&i| exact.each[i].is_match(text))
                    .map(|i| self.ranks[i])
            }
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
    fn word_boundaries_can_be_dropped() {
        assert_eq!(
            without_word_boundaries(r"\bprice\b+|\Bx").as_deref(),
            Some(r"(?:)price(?:)+|(?:)x")
        );
        assert_eq!(without_word_boundaries(r"^a$"), None);
    }

    #[test]
    fn non_ascii_word_characters_are_noticed() {
        assert!(word_chars_are_ascii("plain text"));
        assert!(word_chars_are_ascii("oi 😊 — “ok” 🙏"));
        assert!(!word_chars_are_ascii("привет"));
        assert!(!word_chars_are_ascii("preço"));
        assert!(!word_chars_are_ascii("你好"));
    }

    fn new_group(patterns: &[&str]) -> RegexGroup {
        let sources = patterns.iter().map(|p| p.to_string()).collect();
        let ranks = (0..patterns.len() as u32).collect();
        RegexGroup::new(Folding::FULL, sources, ranks).unwrap()
    }

    fn best(g: &RegexGroup, text: &str) -> Option<u32> {
        g.best_match(text, u32::MAX)
    }

    #[test]
    fn both_roads_give_the_same_answers() {
        let g = new_group(&[r"\bok\b", r"\bпривет\b", r"^\d+$", r"\Bk\b"]);
        assert!(g.exact.as_ref().is_some_and(|e| e.loose.is_some()));
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

        let plain = new_group(&[r"^\d+$", "x+"]);
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
