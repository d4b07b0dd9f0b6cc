//! What `loadtest seed` writes: a repeatable random source and the people, words and
//! message texts of a plausible inbox (names, phone numbers, customer questions and agent
//! answers with order numbers and products), so searches hit and miss as they would.

/// SplitMix64: fast, repeatable (a seed gives the same database every time), and good
/// enough to spread rows; nothing here needs to be unpredictable.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

pub const FIRST_NAMES: &[&str] = &[
    "Maria",
    "Ana",
    "João",
    "Pedro",
    "Lucas",
    "Juliana",
    "Fernanda",
    "Carlos",
    "Paulo",
    "Mariana",
    "Gabriel",
    "Rafael",
    "Beatriz",
    "Camila",
    "Bruno",
    "Larissa",
    "Thiago",
    "Aline",
    "Diego",
    "Patrícia",
    "Ann",
    "Bob",
    "Carla",
    "David",
    "Emma",
    "Oliver",
    "Sophie",
    "James",
    "Chloe",
    "Liam",
    "Noah",
    "Isabel",
    "Hugo",
    "Léa",
    "Lukas",
    "Sara",
    "Omar",
    "Fatima",
    "Wei",
    "Yuki",
];

pub const LAST_NAMES: &[&str] = &[
    "Silva",
    "Santos",
    "Oliveira",
    "Souza",
    "Rodrigues",
    "Ferreira",
    "Alves",
    "Pereira",
    "Lima",
    "Gomes",
    "Costa",
    "Ribeiro",
    "Martins",
    "Carvalho",
    "Almeida",
    "Lopes",
    "Soares",
    "Fernandes",
    "Vieira",
    "Barbosa",
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Evans",
    "Thomas",
    "Roberts",
    "Walker",
    "Müller",
    "Schmidt",
    "Dubois",
    "Moreau",
    "Rossi",
    "Bianchi",
    "García",
    "Martínez",
    "Nakamura",
    "Khan",
];

pub const TAGS: &[&str] = &[
    "vip",
    "lead",
    "wholesale",
    "newsletter",
    "churn-risk",
    "b2b",
    "returning",
    "influencer",
];

const PRODUCTS: &[&str] = &[
    "sneakers",
    "backpack",
    "headphones",
    "coffee maker",
    "phone case",
    "yoga mat",
    "desk lamp",
    "water bottle",
    "charger",
    "jacket",
    "sunglasses",
    "notebook",
    "blender",
    "kettle",
    "watch",
];

const CUSTOMER: &[&str] = &[
    "Hi, I ordered the {p} last week, order #{n}, when will it arrive?",
    "Olá, meu pedido {n} ainda não chegou",
    "Do you have the {p} in black?",
    "How much is the {p}?",
    "Qual o preço do {p}?",
    "I want a refund for order #{n}, the {p} is broken",
    "Can I change the delivery address for order #{n}?",
    "Thanks!",
    "Obrigado pela ajuda",
    "ok",
    "Is the shop open on Sunday?",
    "Vocês entregam em Campinas?",
    "My tracking code {t} shows no update since Monday",
    "Can I pay with pix?",
    "The {p} I got is the wrong size, can I exchange it?",
    "Hello? Anyone there?",
    "I'd like to cancel order #{n}",
    "Is there a discount code for the {p}?",
    "Perfect, see you tomorrow",
    "Where can I pick up the {p}?",
];

const AGENT: &[&str] = &[
    "Hello! Let me check order #{n} for you.",
    "Your {p} left our warehouse yesterday, tracking code {t}.",
    "Olá! Já verifiquei, o pedido {n} sai para entrega amanhã.",
    "Sure, the {p} costs R$ {m},90.",
    "I have started the refund for order #{n}; it takes 5 to 7 business days.",
    "We are open Monday to Saturday, 9 am to 6 pm.",
    "Yes, we deliver there. Shipping is free over R$ 200.",
    "You can use the code WELCOME10 for 10% off.",
    "Anything else I can help with?",
    "The exchange is booked: a courier collects the {p} on Thursday.",
    "Sorry for the wait! I am on it.",
    "Pix works: our key is the company CNPJ.",
];

fn fill(template: &str, rng: &mut Rng) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(at) = rest.find('{') {
        out.push_str(&rest[..at]);
        let end = at + 3; // every placeholder is `{x}`
        match &rest[at..end] {
            "{p}" => out.push_str(rng.pick(PRODUCTS)),
            "{n}" => out.push_str(&(100_000 + rng.below(900_000)).to_string()),
            "{t}" => out.push_str(&format!("BR{:09}XX", rng.below(1_000_000_000))),
            "{m}" => out.push_str(&(20 + rng.below(480)).to_string()),
            other => out.push_str(other),
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// A message as a customer (`inbound`) or an agent would write it.
pub fn message_text(rng: &mut Rng, inbound: bool) -> String {
    fill(rng.pick(if inbound { CUSTOMER } else { AGENT }), rng)
}

pub fn person_name(rng: &mut Rng) -> String {
    format!("{} {}", rng.pick(FIRST_NAMES), rng.pick(LAST_NAMES))
}

/// Digits of a Brazilian or British mobile number, unique per `i`.
pub fn phone_digits(i: u64) -> String {
    if i.is_multiple_of(3) {
        format!("4477{:08}", 10_000_000 + i)
    } else {
        format!("55119{:08}", 10_000_000 + i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_texts() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        for _ in 0..100 {
            assert_eq!(message_text(&mut a, true), message_text(&mut b, true));
        }
    }

    #[test]
    fn templates_are_filled() {
        let mut r = Rng::new(1);
        for _ in 0..500 {
            let inbound = r.chance(0.5);
            let t = message_text(&mut r, inbound);
            assert!(!t.contains('{') && !t.contains('}'), "{t}");
        }
    }
}
