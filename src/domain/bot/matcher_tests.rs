use super::*;
use crate::domain::bot::regexes::check_regex;
use crate::domain::bot::TriggerAction;

pub(crate) fn trigger(id: i64, kind: MatchKind, pattern: &str) -> TriggerDef {
    TriggerDef {
        id,
        match_kind: kind,
        pattern: (kind != MatchKind::AnyKeyword).then(|| pattern.to_owned()),
        keywords: if kind == MatchKind::AnyKeyword {
            pattern.split(',').map(|k| k.trim().to_owned()).collect()
        } else {
            Vec::new()
        },
        case_sensitive: false,
        accent_sensitive: false,
        priority: 0,
        response: Some("ok".into()),
        action: TriggerAction::Reply,
        tag: None,
        field: None,
        value: None,
        active: true,
    }
}

/// The id of the winner among `triggers` for `text`.
fn winner(triggers: &[TriggerDef], text: &str) -> Option<i64> {
    let compiled = CompiledTriggers::compile(triggers).unwrap();
    compiled
        .find(&FoldedText::new(text))
        .map(|i| triggers[i].id)
}

fn matches(t: TriggerDef, text: &str) -> bool {
    winner(&[t], text).is_some()
}

#[test]
fn exact_is_the_whole_folded_text() {
    let t = || trigger(1, MatchKind::Exact, "Bom dia");
    assert!(matches(t(), "bom dia"));
    assert!(matches(t(), "  BOM   DIA \n"));
    assert!(!matches(t(), "bom dia!"));
    assert!(!matches(t(), "oi bom dia"));
    assert!(!matches(t(), "bom"));
}

#[test]
fn contains_finds_a_substring_anywhere() {
    let t = || trigger(1, MatchKind::Contains, "price");
    assert!(matches(t(), "What's the PRICE?"));
    assert!(matches(t(), "priceless"));
    assert!(!matches(t(), "pric e"));
}

#[test]
fn word_needs_boundaries() {
    let t = || trigger(1, MatchKind::Word, "price");
    assert!(matches(t(), "price"));
    assert!(matches(t(), "the price, please"));
    assert!(matches(t(), "(price)"));
    assert!(!matches(t(), "priceless"));
    assert!(!matches(t(), "overprice"));
    assert!(!matches(t(), "price2"));
    // A non-word occurrence first does not hide a later word occurrence.
    assert!(matches(t(), "priceless, but the price?"));
    // Boundaries are Unicode-aware: an accented letter is alphanumeric.
    assert!(!matches(t(), "priceé"));
}

#[test]
fn word_takes_multi_word_patterns() {
    let t = || trigger(1, MatchKind::Word, "opening  hours");
    assert!(matches(t(), "your OPENING hours?"));
    assert!(matches(t(), "opening\thours"));
    assert!(!matches(t(), "reopening hours"));
}

#[test]
fn starts_with_is_anchored_at_the_start() {
    let t = || trigger(1, MatchKind::StartsWith, "hello");
    assert!(matches(t(), "  Hello there"));
    assert!(matches(t(), "helloooo"));
    assert!(!matches(t(), "oh hello"));
}

#[test]
fn any_keyword_is_any_keyword_as_a_word() {
    let t = || trigger(1, MatchKind::AnyKeyword, "appointment, booking, agendar");
    assert!(matches(t(), "I need a booking"));
    assert!(matches(t(), "quero AGENDAR"));
    assert!(!matches(t(), "bookings"));
    assert!(!matches(t(), "nothing here"));
}

#[test]
fn accents_and_case_fold_both_ways() {
    assert!(matches(trigger(1, MatchKind::Word, "preço"), "PRECO?"));
    assert!(matches(
        trigger(1, MatchKind::Word, "PRECO"),
        "qual o preço"
    ));
    assert!(matches(trigger(1, MatchKind::Exact, "Ação"), "acao"));
    assert!(matches(
        trigger(1, MatchKind::AnyKeyword, "horário"),
        "HORARIO"
    ));
}

#[test]
fn case_sensitive_keeps_case_but_folds_accents() {
    let mut t = trigger(1, MatchKind::Word, "SALE");
    t.case_sensitive = true;
    assert!(matches(t.clone(), "big SALE"));
    assert!(!matches(t.clone(), "big sale"));
    let mut t = trigger(1, MatchKind::Contains, "Preço");
    t.case_sensitive = true;
    assert!(matches(t.clone(), "Preco"));
    assert!(!matches(t, "preço"));
}

#[test]
fn accent_sensitive_keeps_accents_but_folds_case() {
    let mut t = trigger(1, MatchKind::Word, "pão");
    t.accent_sensitive = true;
    assert!(matches(t.clone(), "PÃO quente"));
    assert!(!matches(t.clone(), "pao quente"));
    // The same accent written as a combining mark still matches.
    assert!(matches(t, "pa\u{303}o"));
    let mut both = trigger(1, MatchKind::Exact, "Pão");
    both.accent_sensitive = true;
    both.case_sensitive = true;
    assert!(matches(both.clone(), "Pão"));
    assert!(!matches(both.clone(), "pão"));
    assert!(!matches(both, "Pao"));
}

#[test]
fn regex_is_case_insensitive_on_accent_folded_text() {
    let t = || trigger(1, MatchKind::Regex, r"^pedido\s*#?\d{4,}$");
    assert!(matches(t(), "PEDIDO #12345"));
    assert!(!matches(t(), "pedido 12"));
    // The pattern's accents go too, so it matches with or without them.
    let t = || trigger(1, MatchKind::Regex, r"\bpreço\b");
    assert!(matches(t(), "O PRECO"));
    assert!(matches(t(), "o preço"));
    let mut cs = trigger(1, MatchKind::Regex, r"\bSALE\b");
    cs.case_sensitive = true;
    assert!(matches(cs.clone(), "SALE now"));
    assert!(!matches(cs, "sale now"));
    let mut acc = trigger(1, MatchKind::Regex, r"pão");
    acc.accent_sensitive = true;
    assert!(matches(acc.clone(), "PÃO"));
    assert!(!matches(acc, "pao"));
}

#[test]
fn highest_priority_wins_and_ties_go_to_the_lowest_id() {
    let mut low = trigger(5, MatchKind::Contains, "price");
    low.priority = 1;
    let mut high = trigger(9, MatchKind::Word, "price");
    high.priority = 10;
    let mut regex = trigger(7, MatchKind::Regex, "pri.e");
    regex.priority = 5;
    let all = [low.clone(), high.clone(), regex.clone()];
    assert_eq!(winner(&all, "the price"), Some(9));
    // The word trigger does not match "priceless"; of the other two, the regex is higher.
    assert_eq!(winner(&all, "priceless"), Some(7));
    assert_eq!(winner(&[low.clone()], "priceless"), Some(5));

    // Ties: the lowest id wins, whatever the order given and the kind.
    let a = trigger(3, MatchKind::Contains, "hours");
    let b = trigger(2, MatchKind::Word, "opening hours");
    let c = trigger(4, MatchKind::Regex, "hours");
    assert_eq!(
        winner(&[a.clone(), b.clone(), c.clone()], "opening hours?"),
        Some(2)
    );
    assert_eq!(
        winner(&[c.clone(), a.clone(), b.clone()], "opening hours?"),
        Some(2)
    );
    assert_eq!(winner(&[c.clone(), a.clone()], "hours"), Some(3));
    // A regex with a lower id beats an equal-priority literal.
    let r1 = trigger(1, MatchKind::Regex, "hou?rs");
    assert_eq!(winner(&[a, b, r1], "opening hours"), Some(1));
}

#[test]
fn triggers_sharing_a_literal_keep_their_own_kinds() {
    let word = trigger(1, MatchKind::Word, "price");
    let mut contains = trigger(2, MatchKind::Contains, "PRICE");
    contains.priority = -1;
    let exact = trigger(3, MatchKind::Exact, "price");
    let all = [word, contains, exact];
    assert_eq!(winner(&all, "price"), Some(1));
    assert_eq!(winner(&all, "priceless"), Some(2));
}

#[test]
fn inactive_triggers_never_match() {
    let mut off = trigger(1, MatchKind::Contains, "price");
    off.active = false;
    off.priority = 100;
    let mut off_regex = trigger(2, MatchKind::Regex, "price");
    off_regex.active = false;
    assert_eq!(winner(&[off.clone(), off_regex.clone()], "price"), None);
    let on = trigger(3, MatchKind::Word, "price");
    assert_eq!(winner(&[off, off_regex, on], "price"), Some(3));
}

#[test]
fn no_triggers_and_empty_text_match_nothing() {
    assert_eq!(winner(&[], "anything"), None);
    assert_eq!(winner(&[trigger(1, MatchKind::Contains, "a")], ""), None);
    let compiled = CompiledTriggers::compile(&[]).unwrap();
    assert!(compiled.is_empty());
}

#[test]
fn regex_validation_refuses_bad_and_huge_patterns() {
    assert_eq!(check_regex(r"\d+", false, false), Ok(()));
    let e = check_regex(r"(unclosed", false, false).unwrap_err();
    assert!(e.starts_with("invalid regex: "), "{e}");
    let e = check_regex(r"(?:a{1000}){1000}", false, false).unwrap_err();
    assert!(e.starts_with("invalid regex: too large"), "{e}");
    let e = check_regex(r"\w{1000}", false, false).unwrap_err();
    assert!(e.starts_with("invalid regex: too large"), "{e}");
    // Ordinary patterns are far below the limit.
    assert_eq!(
        check_regex(r"\b[\w.+-]+@[\w-]+\.[\w.]+\b", false, false),
        Ok(())
    );
    assert_eq!(
        check_regex(r"\b(pedido|order)\s*#?\d{4,10}\b", true, true),
        Ok(())
    );
}

#[test]
fn word_set_finds_the_first_whole_word() {
    let words: Vec<String> = ["atendente", "Human", "humano", "HUMAN"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let set = WordSet::new(&words).unwrap();
    assert_eq!(set.find(&FoldedText::new("quero um HUMANO")), Some(2));
    assert_eq!(set.find(&FoldedText::new("a human please")), Some(1));
    assert_eq!(set.find(&FoldedText::new("humanity")), None);
    assert_eq!(
        set.find(&FoldedText::new("humans, no: atendente!")),
        Some(0)
    );
    assert_eq!(WordSet::new(&[]).unwrap().find(&FoldedText::new("x")), None);
}

#[test]
fn is_word_at_checks_both_sides() {
    assert!(is_word_at("a b", 0, 1));
    assert!(is_word_at("a b", 2, 3));
    assert!(!is_word_at("ab", 0, 1));
    assert!(!is_word_at("ab", 1, 2));
    assert!(is_word_at("é-b", 3, 4));
}
