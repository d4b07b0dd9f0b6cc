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

use unicode_normalization::char::{decompose_compatible, is_combining_mark};
use unicode_normalization::{is_nfkc_quick, IsNormalized, UnicodeNormalization};

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
    let mut out = Folder {
        out: String::with_capacity(text.len()),
        space: false,
        how,
    };
    if how.accents {
        // Decomposing char by char is NFKD but for the canonical reordering of combining
        // marks, which are all dropped here anyway.
        for_each_char(text, &mut out, |out, c| {
            decompose_compatible(c, |d| {
                if !is_combining_mark(d) {
                    out.push(strip_inner_accent(d));
                }
            })
        });
    } else if is_nfkc_quick(text.chars()) == IsNormalized::Yes {
        for_each_char(text, &mut out, Folder::push);
    } else {
        text.nfkc().for_each(|c| out.push(c));
    }
    Cow::Owned(out.out)
}

/// Feeds `text` to `out`: runs of ASCII a byte at a time, other characters to `other`.
fn for_each_char(text: &str, out: &mut Folder, mut other: impl FnMut(&mut Folder, char)) {
    let mut rest = text;
    while !rest.is_empty() {
        let ascii = rest
            .bytes()
            .position(|b| !b.is_ascii())
            .unwrap_or(rest.len());
        rest.as_bytes()[..ascii]
            .iter()
            .for_each(|&b| out.push_ascii(b));
        let mut chars = rest[ascii..].chars();
        if let Some(c) = chars.next() {
            other(out, c);
        }
        rest = chars.as_str();
    }
}

/// Builds folded text a character at a time: whitespace collapsed, case folded.
struct Folder {
    out: String,
    /// A space is due before the next character.
    space: bool,
    how: Folding,
}

impl Folder {
    fn push_ascii(&mut self, b: u8) {
        // The ASCII characters that `char::is_whitespace` accepts.
        if matches!(b, b' ' | b'\t'..=b'\r') {
            self.space = !self.out.is_empty();
            return;
        }
        if self.space {
            self.out.push(' ');
            self.space = false;
        }
        let b = if self.how.case {
            b.to_ascii_lowercase()
        } else {
            b
        };
        self.out.push(char::from(b));
    }

    fn push(&mut self, c: char) {
        if c.is_whitespace() {
            self.space = !self.out.is_empty();
            return;
        }
        if self.space {
            self.out.push(' ');
            self.space = false;
        }
        if !self.how.case {
            self.out.push(c);
        } else if c.is_ascii() {
            self.out.push(c.to_ascii_lowercase());
        } else {
            for l in c.to_lowercase() {
                // Lower-casing can add a combining mark (`İ` → `i` + U+0307).
                if !(self.how.accents && is_combining_mark(l)) {
                    self.out.push(l);
                }
            }
        }
    }
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

    /// The definition, spelled out with whole-string normalization.
    fn reference(text: &str, how: Folding) -> String {
        let chars: Vec<char> = if how.accents {
            text.nfkd()
                .filter(|&c| !is_combining_mark(c))
                .map(strip_inner_accent)
                .collect()
        } else {
            text.nfkc().collect()
        };
        let lowered: String = chars
            .into_iter()
            .flat_map(|c| {
                let l: Vec<char> = if how.case {
                    c.to_lowercase().collect()
                } else {
                    vec![c]
                };
                l
            })
            .filter(|&c| !(how.accents && is_combining_mark(c)))
            .collect();
        lowered.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn the_fast_path_agrees_with_whole_string_normalization() {
        let samples = [
            "Olá! Qual é o PREÇO do corte?",
            "  İstanbul\u{2003}ŞEHİR  ",
            "ﬁnal Ｆｕｌｌ ½ ²",
            "cafe\u{301}\u{327} naïve Ærø Łódź",
            "한국어 텍스트",
            "Ǆemal ǅ ǆ",
            "o\u{308}\u{301}x",
            "😊 — “ok” 🙏",
            "ΣΊΣΥΦΟΣ",
            "\u{a0}nbsp\u{a0}",
            "a\t\nB\u{b}\u{c}\rC\u{1c}D  ",
            "plain ascii",
            "",
        ];
        for text in samples {
            for how in Folding::ALL {
                assert_eq!(fold(text, how), reference(text, how), "{text:?} {how:?}");
            }
        }
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
