//! Folding text for matching: both the customer's message and the patterns go through the
//! same [`fold`], so comparing folded strings is case- and accent-insensitive.
//!
//! - accents folded: Unicode compatibility decomposition (NFKD), combining marks dropped,
//!   and a few letters that carry their accent inside (`ø`, `ł`, `đ`, `ħ`) mapped to the
//!   plain letter; so `preço`, `PRECO` and `ﬁ` (a ligature) → `preco`, `preco`, `fi`;
//! - accents kept: compatibility composition (NFKC), so a precomposed `é` and `e` + a
//!   combining acute are the same;
//! - case folded: lower case (`char::to_lowercase`);
//! - always: every run of whitespace becomes one space, and the ends are trimmed.
//!
//! Text that is already folded ASCII is returned borrowed, without allocating.

use std::borrow::Cow;
use std::cell::OnceCell;

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Which foldings apply: the four variants a trigger can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Folding {
    pub case: bool,
    pub accents: bool,
}

impl Folding {
    /// Case- and accent-insensitive: the default, and what handoff keywords use.
    pub const FULL: Folding = Folding {
        case: true,
        accents: true,
    };
    pub const ALL: [Folding; 4] = [
        Folding::FULL,
        Folding {
            case: true,
            accents: false,
        },
        Folding {
            case: false,
            accents: true,
        },
        Folding {
            case: false,
            accents: false,
        },
    ];

    /// The folding a trigger with these sensitivities matches under.
    pub fn for_sensitivity(case_sensitive: bool, accent_sensitive: bool) -> Folding {
        Folding {
            case: !case_sensitive,
            accents: !accent_sensitive,
        }
    }

    /// Position in [`Folding::ALL`].
    pub fn index(self) -> usize {
        (usize::from(!self.case) << 1) | usize::from(!self.accents)
    }
}

/// `text` folded as `how` says.
pub fn fold(text: &str, how: Folding) -> Cow<'_, str> {
    if is_folded_ascii(text, how.case) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    let mut push = |c: char| {
        if c.is_whitespace() {
            space = !out.is_empty();
        } else {
            if space {
                out.push(' ');
                space = false;
            }
            out.push(c);
        }
    };
    let lower = |c: char, push: &mut dyn FnMut(char)| {
        if how.case {
            c.to_lowercase().for_each(push);
        } else {
            push(c);
        }
    };
    if how.accents {
        let mut plain = |c: char| {
            if !is_combining_mark(c) {
                push(strip_inner_accent(c));
            }
        };
        // Lower-casing can itself add a combining mark (`İ` → `i` + U+0307), so marks
        // are dropped after it.
        text.nfkd().for_each(|c| lower(c, &mut plain));
    } else {
        text.nfkc().for_each(|c| lower(c, &mut push));
    }
    Cow::Owned(out)
}

/// A regex's source prepared for text folded with (or without) accents: only the
/// Unicode normalization and the accents change, never case or whitespace, so the
/// expression keeps its meaning.
pub fn fold_pattern(pattern: &str, accents: bool) -> String {
    if pattern.is_ascii() {
        return pattern.to_owned();
    }
    if accents {
        pattern
            .nfkd()
            .filter(|&c| !is_combining_mark(c))
            .map(strip_inner_accent)
            .collect()
    } else {
        pattern.nfkc().collect()
    }
}

/// Letters whose accent NFKD does not split off.
fn strip_inner_accent(c: char) -> char {
    match c {
        'ø' => 'o',
        'Ø' => 'O',
        'ł' => 'l',
        'Ł' => 'L',
        'đ' => 'd',
        'Đ' => 'D',
        'ħ' => 'h',
        'Ħ' => 'H',
        _ => c,
    }
}

/// True when folding would not change `text`: printable ASCII (no upper case when folding
/// case), single spaces between words, no space at either end.
fn is_folded_ascii(text: &str, case: bool) -> bool {
    let bytes = text.as_bytes();
    if bytes.first() == Some(&b' ') || bytes.last() == Some(&b' ') {
        return false;
    }
    let mut prev_space = false;
    for &b in bytes {
        match b {
            b' ' if prev_space => return false,
            b' ' => prev_space = true,
            b'A'..=b'Z' if case => return false,
            0x21..=0x7e => prev_space = false,
            _ => return false,
        }
    }
    true
}

/// A message folded lazily, once per variant that some matcher asks for.
pub struct FoldedText<'a> {
    raw: &'a str,
    variants: [OnceCell<Cow<'a, str>>; 4],
}

impl<'a> FoldedText<'a> {
    pub fn new(raw: &'a str) -> Self {
        FoldedText {
            raw,
            variants: Default::default(),
        }
    }

    pub fn raw(&self) -> &'a str {
        self.raw
    }

    pub fn get(&self, how: Folding) -> &str {
        self.variants[how.index()].get_or_init(|| fold(self.raw, how))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CASE: Folding = Folding {
        case: true,
        accents: false,
    };
    const ACCENTS: Folding = Folding {
        case: false,
        accents: true,
    };
    const NONE: Folding = Folding {
        case: false,
        accents: false,
    };

    #[test]
    fn full_folding_drops_case_accents_and_extra_space() {
        assert_eq!(
            fold("  Qual é o PREÇO?\t\n ", Folding::FULL),
            "qual e o preco?"
        );
        assert_eq!(fold("Ærø Łódź", Folding::FULL), "æro lodz");
        assert_eq!(fold("ﬁnal Ｆｕｌｌ", Folding::FULL), "final full");
        // A decomposed é folds like a precomposed one.
        assert_eq!(fold("cafe\u{301}", Folding::FULL), "cafe");
        assert_eq!(fold("İstanbul", Folding::FULL), "istanbul");
        assert_eq!(fold("", Folding::FULL), "");
        assert_eq!(fold(" \t ", Folding::FULL), "");
    }

    #[test]
    fn partial_foldings_keep_what_they_should() {
        assert_eq!(fold("Preço  Já", CASE), "preço já");
        assert_eq!(fold("Preço  Já", ACCENTS), "Preco Ja");
        assert_eq!(fold(" Preço  Já ", NONE), "Preço Já");
        // Composition makes both spellings of é the same when accents are kept.
        assert_eq!(fold("cafe\u{301}", NONE), "café");
        assert_eq!(fold("CAFE\u{301}", CASE), "café");
    }

    #[test]
    fn folded_ascii_is_borrowed() {
        assert!(matches!(
            fold("hello world, 42!", Folding::FULL),
            Cow::Borrowed(_)
        ));
        assert!(matches!(fold("Hello", NONE), Cow::Borrowed(_)));
        assert!(matches!(fold("Hello", Folding::FULL), Cow::Owned(_)));
        assert!(matches!(fold("a  b", NONE), Cow::Owned(_)));
        assert!(matches!(fold("a\tb", NONE), Cow::Owned(_)));
        assert!(matches!(fold(" a", NONE), Cow::Owned(_)));
    }

    #[test]
    fn variants_have_distinct_indexes() {
        let mut seen: Vec<usize> = Folding::ALL.iter().map(|f| f.index()).collect();
        assert_eq!(seen, vec![0, 1, 2, 3]);
        seen.dedup();
        assert_eq!(Folding::for_sensitivity(false, false), Folding::FULL);
        assert_eq!(Folding::for_sensitivity(true, true), NONE);
    }

    #[test]
    fn folded_text_caches_each_variant() {
        let t = FoldedText::new("Olá  Mundo");
        assert_eq!(t.get(Folding::FULL), "ola mundo");
        assert_eq!(t.get(NONE), "Olá Mundo");
        assert_eq!(t.raw(), "Olá  Mundo");
    }
}
