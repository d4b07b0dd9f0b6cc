//! Finding the winning trigger for a message without looping over the triggers.
//!
//! A bot version's active triggers are compiled once ([`CompiledTriggers::compile`]):
//! - every literal (the pattern of `exact`, `contains`, `word`, `starts_with`, and each
//!   keyword of `any_keyword`) goes, folded, into one Aho-Corasick automaton per folding
//!   variant in use (folded, case-sensitive, accent-sensitive, both); equal literals share
//!   one entry listing the triggers that use it;
//! - every `regex` goes into one `RegexSet` per folding variant in use.
//!
//! Matching folds the message once per variant in use, runs each automaton once
//! (overlapping, so a literal inside a longer word does not hide a later whole-word
//! occurrence), and checks each hit's constraint: `exact` spans the whole text,
//! `starts_with` starts at 0, `word` and `any_keyword` have a non-alphanumeric character
//! or an edge of the text on both sides, `contains` always holds. Triggers are ranked by
//! priority (highest first), then id (lowest first); the best-ranked hit wins, and a regex
//! set runs only if one of its regexes could still beat the best literal hit (see
//! [`super::regexes`] for how the sets stay fast on text with emoji).

use std::collections::HashMap;

use aho_corasick::AhoCorasick;

use super::normalize::{fold, FoldedText, Folding};
use super::regexes::{regex_source, RegexGroup};
use super::{MatchKind, TriggerDef};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Constraint {
    Exact,
    StartsWith,
    Anywhere,
    Word,
}

impl Constraint {
    fn of(kind: MatchKind) -> Constraint {
        match kind {
            MatchKind::Exact => Constraint::Exact,
            MatchKind::StartsWith => Constraint::StartsWith,
            MatchKind::Contains => Constraint::Anywhere,
            MatchKind::Word | MatchKind::AnyKeyword => Constraint::Word,
            // Regexes go to a RegexSet, never to the automaton.
            MatchKind::Regex => Constraint::Anywhere,
        }
    }

    fn holds(self, text: &str, start: usize, end: usize) -> bool {
        match self {
            Constraint::Exact => start == 0 && end == text.len(),
            Constraint::StartsWith => start == 0,
            Constraint::Anywhere => true,
            Constraint::Word => is_word_at(text, start, end),
        }
    }
}

/// `text[start..end]` has a non-alphanumeric character or an edge of the text on both
/// sides.
pub fn is_word_at(text: &str, start: usize, end: usize) -> bool {
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
}

#[derive(Debug, Clone, Copy)]
struct Candidate {
    rank: u32,
    constraint: Constraint,
}

/// The literals of one folding variant.
#[derive(Debug)]
struct Literals {
    folding: Folding,
    automaton: AhoCorasick,
    /// Per automaton pattern, the triggers using it, best rank first.
    candidates: Vec<Vec<Candidate>>,
    best: u32,
}

/// A bot version's active triggers, compiled for matching.
#[derive(Debug)]
pub struct CompiledTriggers {
    /// Rank → index of the trigger in the slice given to `compile`.
    by_rank: Vec<usize>,
    literals: Vec<Literals>,
    regexes: Vec<RegexGroup>,
}

impl CompiledTriggers {
    /// Compiles the active triggers of `triggers` (assumed valid: see
    /// `TriggerDef::validate`; a regex that fails still errs rather than panics).
    pub fn compile(triggers: &[TriggerDef]) -> Result<CompiledTriggers, String> {
        let mut by_rank: Vec<usize> = (0..triggers.len())
            .filter(|&i| triggers[i].active)
            .collect();
        by_rank.sort_by_key(|&i| (std::cmp::Reverse(triggers[i].priority), triggers[i].id, i));

        // Per variant: literal → its automaton index, and the literals in order.
        let mut literal_ids: [HashMap<String, usize>; 4] = Default::default();
        let mut literal_cands: [Vec<Vec<Candidate>>; 4] = Default::default();
        let mut literal_texts: [Vec<String>; 4] = Default::default();
        let mut regex_parts: [(Vec<String>, Vec<u32>); 4] = Default::default();

        for (rank, &i) in by_rank.iter().enumerate() {
            let t = &triggers[i];
            let rank = u32::try_from(rank).map_err(|_| "too many".to_owned())?;
            let folding = Folding::for_sensitivity(t.case_sensitive, t.accent_sensitive);
            let v = folding.index();
            if t.match_kind == MatchKind::Regex {
                let pattern = t.pattern.as_deref().unwrap_or_default();
                if pattern.is_empty() {
                    continue; // refused by validation; never let it match everything
                }
                regex_parts[v]
                    .0
                    .push(regex_source(pattern, t.accent_sensitive));
                regex_parts[v].1.push(rank);
                continue;
            }
            let literals: Vec<&str> = match t.match_kind {
                MatchKind::AnyKeyword => t.keywords.iter().map(String::as_str).collect(),
                _ => t.pattern.as_deref().into_iter().collect(),
            };
            let constraint = Constraint::of(t.match_kind);
            for literal in literals {
                let folded = fold(literal, folding);
                if folded.is_empty() {
                    continue; // refused by validation; never let it match everything
                }
                let id = *literal_ids[v]
                    .entry(folded.into_owned())
                    .or_insert_with_key(|k| {
                        literal_texts[v].push(k.clone());
                        literal_cands[v].push(Vec::new());
                        literal_texts[v].len() - 1
                    });
                // Ranks arrive in order, so each list stays sorted best first.
                let list = &mut literal_cands[v][id];
                if list
                    .last()
                    .is_none_or(|c| (c.rank, c.constraint) != (rank, constraint))
                {
                    list.push(Candidate { rank, constraint });
                }
            }
        }

        let mut literals = Vec::new();
        let mut regexes = Vec::new();
        for folding in Folding::ALL {
            let v = folding.index();
            let texts = std::mem::take(&mut literal_texts[v]);
            if !texts.is_empty() {
                let automaton = AhoCorasick::new(&texts)
                    .map_err(|e| format!("cannot build the matcher: {e}"))?;
                let candidates = std::mem::take(&mut literal_cands[v]);
                let best = candidates
                    .iter()
                    .map(|c| c[0].rank)
                    .min()
                    .unwrap_or(u32::MAX);
                literals.push(Literals {
                    folding,
                    automaton,
                    candidates,
                    best,
                });
            }
            let (sources, ranks) = std::mem::take(&mut regex_parts[v]);
            if !sources.is_empty() {
                regexes.push(RegexGroup::new(folding, sources, ranks)?);
            }
        }
        Ok(CompiledTriggers {
            by_rank,
            literals,
            regexes,
        })
    }

    /// The number of active triggers.
    pub fn len(&self) -> usize {
        self.by_rank.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_rank.is_empty()
    }

    /// The index (in the slice given to `compile`) of the winning trigger, if any matches.
    pub fn find(&self, text: &FoldedText<'_>) -> Option<usize> {
        let mut best = u32::MAX;
        for lit in &self.literals {
            if lit.best >= best {
                continue;
            }
            let hay = text.get(lit.folding);
            for hit in lit.automaton.find_overlapping_iter(hay) {
                for c in &lit.candidates[hit.pattern().as_usize()] {
                    if c.rank >= best {
                        break;
                    }
                    if c.constraint.holds(hay, hit.start(), hit.end()) {
                        best = c.rank;
                        break;
                    }
                }
                if best == lit.best {
                    break; // nothing in this automaton can do better
                }
            }
        }
        for rx in &self.regexes {
            if rx.best >= best {
                continue;
            }
            if let Some(rank) = rx.best_match(text.get(rx.folding), best) {
                best = rank;
            }
        }
        self.by_rank.get(best as usize).copied()
    }
}

/// Words looked for on fully folded text (the bot's handoff keywords).
#[derive(Debug)]
pub struct WordSet {
    automaton: Option<AhoCorasick>,
    /// Per automaton pattern, the index of the first word that folds to it.
    words: Vec<usize>,
}

impl WordSet {
    pub fn new(words: &[String]) -> Result<WordSet, String> {
        let mut seen = HashMap::new();
        let mut texts = Vec::new();
        let mut ids = Vec::new();
        for (i, w) in words.iter().enumerate() {
            let folded = fold(w, Folding::FULL).into_owned();
            if folded.is_empty() || seen.contains_key(&folded) {
                continue;
            }
            seen.insert(folded.clone(), i);
            texts.push(folded);
            ids.push(i);
        }
        let automaton = if texts.is_empty() {
            None
        } else {
            Some(AhoCorasick::new(&texts).map_err(|e| format!("cannot build the matcher: {e}"))?)
        };
        Ok(WordSet {
            automaton,
            words: ids,
        })
    }

    /// The index of the first word (by where it ends in the text) present as a word.
    pub fn find(&self, text: &FoldedText<'_>) -> Option<usize> {
        let automaton = self.automaton.as_ref()?;
        let hay = text.get(Folding::FULL);
        automaton
            .find_overlapping_iter(hay)
            .find(|m| is_word_at(hay, m.start(), m.end()))
            .map(|m| self.words[m.pattern().as_usize()])
    }
}

#[cfg(test)]
#[path = "matcher_tests.rs"]
mod tests;
