//! Matching one customer message against a bot of 1,000 triggers of mixed kinds
//! (realistic words; about 5% regexes, a few case- or accent-sensitive), compiled once.
//! The target (issue 13): under 20 µs per message.
//!
//! `cargo bench --bench bot_matching`

use std::hint::black_box;

use chrono::{TimeZone, Utc};
use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::json;
use tickhub::domain::bot::{BotDef, BotState, CompiledBot, ContactVars, TriggerDef, Turn};

const WORDS: &[&str] = &[
    "price",
    "preço",
    "cost",
    "valor",
    "haircut",
    "corte",
    "cabelo",
    "manicure",
    "pedicure",
    "massage",
    "massagem",
    "appointment",
    "agendamento",
    "booking",
    "reserva",
    "cancel",
    "cancelar",
    "refund",
    "reembolso",
    "delivery",
    "entrega",
    "shipping",
    "frete",
    "order",
    "pedido",
    "invoice",
    "nota",
    "fiscal",
    "payment",
    "pagamento",
    "pix",
    "card",
    "cartão",
    "boleto",
    "discount",
    "desconto",
    "coupon",
    "cupom",
    "promotion",
    "promoção",
    "hours",
    "horário",
    "open",
    "aberto",
    "closed",
    "fechado",
    "saturday",
    "sábado",
    "sunday",
    "domingo",
    "holiday",
    "feriado",
    "address",
    "endereço",
    "parking",
    "estacionamento",
    "wifi",
    "menu",
    "cardápio",
    "pizza",
    "burger",
    "salad",
    "salada",
    "vegan",
    "gluten",
    "lactose",
    "dessert",
    "sobremesa",
    "coffee",
    "café",
    "tea",
    "chá",
    "juice",
    "suco",
    "beer",
    "cerveja",
    "wine",
    "vinho",
    "table",
    "mesa",
    "birthday",
    "aniversário",
    "wedding",
    "casamento",
    "gift",
    "presente",
    "voucher",
    "membership",
    "plano",
    "monthly",
    "mensal",
    "annual",
    "anual",
    "trial",
    "teste",
    "warranty",
    "garantia",
    "repair",
    "conserto",
    "broken",
    "quebrado",
    "screen",
    "tela",
    "battery",
    "bateria",
    "charger",
    "carregador",
    "size",
    "tamanho",
    "color",
    "cor",
    "stock",
    "estoque",
    "available",
    "disponível",
    "exchange",
    "troca",
    "return",
    "devolução",
    "tracking",
    "rastreio",
    "login",
    "password",
    "senha",
    "account",
    "conta",
    "email",
    "telefone",
    "whatsapp",
    "instagram",
    "location",
    "localização",
    "map",
    "mapa",
    "uber",
    "taxi",
    "bus",
    "ônibus",
    "student",
    "estudante",
    "senior",
    "idoso",
    "kids",
    "criança",
    "pet",
    "cachorro",
    "gato",
    "vaccine",
    "vacina",
    "consulta",
    "exam",
    "exame",
    "doctor",
    "médico",
    "dentist",
    "dentista",
    "cleaning",
    "limpeza",
    "whitening",
    "clareamento",
    "braces",
    "aparelho",
];

const REGEXES: &[&str] = &[
    r"\b(?:order|pedido)\s*#?\d{4,8}\b",
    r"\b\d{1,2}(?::|h)\d{2}\b",
    r"\b\d{5}-?\d{3}\b",
    r"\b[\w.+-]+@[\w-]+\.[\w.]+\b",
    r"^(?:hi|hello|oi|ola|bom dia|boa tarde)\b",
    r"\bR?\$\s*\d+(?:[.,]\d{2})?\b",
    r"\b(?:cpf|cnpj)\s*:?\s*\d{3}\.?\d{3}\.?\d{3}-?\d{2}\b",
    r"\btrack(?:ing)?\s+(?:number|code)\b",
];

/// A small deterministic generator, so every run benches the same bot.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) as usize
    }
    fn word(&mut self) -> &'static str {
        WORDS[self.next() % WORDS.len()]
    }
    fn phrase(&mut self) -> String {
        match self.next() % 3 {
            0 => self.word().to_owned(),
            _ => format!("{} {}", self.word(), self.word()),
        }
    }
}

fn triggers(n: usize) -> Vec<TriggerDef> {
    let mut rng = Lcg(42);
    (0..n)
        .map(|i| {
            let roll = rng.next() % 100;
            let (kind, pattern, keywords) = match roll {
                0..=4 => {
                    let base = REGEXES[rng.next() % REGEXES.len()];
                    let p = if rng.next().is_multiple_of(2) {
                        base.to_owned()
                    } else {
                        format!(r"\b{}s?\b.*\b{}\b", rng.word(), rng.word())
                    };
                    ("regex", Some(p), vec![])
                }
                5..=39 => ("word", Some(rng.phrase()), vec![]),
                40..=59 => ("contains", Some(rng.word().to_owned()), vec![]),
                60..=79 => {
                    let k: Vec<String> = (0..2 + rng.next() % 3).map(|_| rng.phrase()).collect();
                    ("any_keyword", None, k)
                }
                80..=89 => ("starts_with", Some(rng.phrase()), vec![]),
                _ => ("exact", Some(rng.phrase()), vec![]),
            };
            let sensitive = rng.next() % 40;
            serde_json::from_value(json!({
                "id": i as i64 + 1,
                "match": kind,
                "pattern": pattern,
                "keywords": keywords,
                "case_sensitive": sensitive == 0,
                "accent_sensitive": sensitive == 1,
                "priority": (rng.next() % 10) as i64,
                "response": format!("Answer {i} for {{{{contact.first_name}}}}"),
                "action": "reply",
            }))
            .expect("a valid trigger")
        })
        .collect()
}

fn bot_def() -> BotDef {
    let def: BotDef = serde_json::from_value(json!({
        "id": 1, "version": 1, "name": "Bench",
        "fallback": "Sorry?",
        "handoff_keywords": ["agent", "human", "atendente", "pessoa"],
        "handoff_after_misses": 3,
        "business_hours": {"time_zone": "America/Sao_Paulo",
                           "weekly": {"mon": [["09:00", "18:00"]], "tue": [["09:00", "18:00"]]},
                           "holidays": ["2026-12-25"]},
        "after_hours_message": "We are closed; today: {{business.hours_today}}",
    }))
    .expect("a valid bot");
    BotDef {
        triggers: triggers(1_000),
        ..def
    }
}

const MESSAGES: &[(&str, &str)] = &[
    (
        "short_hit",
        "Olá! Qual é o preço do corte de cabelo feminino para amanhã às 15h?",
    ),
    (
        "english_hit",
        "Hi, could you tell me your opening hours on Saturday and whether I need an appointment?",
    ),
    (
        "no_match",
        "xyzzy plugh, nothing to see here at all: just words without any known meaning 42",
    ),
    (
        "emoji",
        "oi 😊😊 tudo bem? só queria dizer — obrigado pela ajuda de ontem 🙏",
    ),
    (
        "cyrillic",
        "здравствуйте, мы хотим узнать цену на стрижку завтра утром, спасибо",
    ),
    ("cjk", "你好，我想知道明天理发的价格，谢谢"),
    (
        "long_600",
        "Boa tarde, tudo bem? Eu comprei um produto na semana passada e até agora não recebi \
         nenhuma informação sobre o envio. Gostaria de saber se vocês conseguem verificar para \
         mim o que aconteceu, porque o prazo informado no site já passou faz alguns dias. Também \
         queria entender como funciona a política de troca caso o tamanho não sirva, e se existe \
         algum custo adicional para isso. Por fim, vocês têm loja física perto do centro? Seria \
         mais fácil retirar pessoalmente se for possível. Obrigado desde já pela atenção!!",
    ),
];

fn bench(c: &mut Criterion) {
    let def = bot_def();
    let bot = CompiledBot::compile(def.clone()).expect("the bot compiles");
    let contact = ContactVars {
        name: Some("Ana Souza".into()),
        ..ContactVars::default()
    };
    let at = Utc.with_ymd_and_hms(2026, 12, 7, 15, 0, 0).unwrap();
    let mut group = c.benchmark_group("bot_matching_1000_triggers");
    for (name, text) in MESSAGES {
        let found = bot.find_trigger(text).map(|t| t.id);
        println!("{name}: trigger {found:?}");
        group.bench_function(format!("find_trigger/{name}"), |b| {
            b.iter(|| black_box(bot.find_trigger(black_box(text))).map(|t| t.id))
        });
        group.bench_function(format!("decide/{name}"), |b| {
            b.iter(|| {
                bot.decide(black_box(&Turn {
                    text,
                    at,
                    state: BotState::default(),
                    contact: &contact,
                    business_name: Some("Bench"),
                }))
            })
        });
    }
    group.finish();
    c.bench_function("compile_1000_triggers", |b| {
        b.iter(|| CompiledBot::compile(black_box(def.clone())).is_ok())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
