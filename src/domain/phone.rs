//! Contacts' phone numbers, normalised to E.164 (`+447700900123`) on input.
//!
//! libphonenumber's metadata (the `phonenumber` crate) decides what can be a number: a
//! known country calling code and a national number of a length that country uses. The
//! number's full pattern is not required: WhatsApp accounts exist on new ranges before
//! the metadata knows them, and a number that messaged the business is a number. What
//! the team types is read leniently (spaces, dots, dashes, brackets, `00` or `+` before
//! the country code, a `…@c.us` WhatsApp id); a national number (`07700 900123`) needs a
//! default region (`TICKHUB_PHONE_REGION`), since without one its country is unknown.

use phonenumber::country::Id as Region;
use phonenumber::metadata::DATABASE;
use phonenumber::Mode;

/// Why a text is not a phone number (the API says it after the field's name).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("is empty")]
    Empty,
    #[error("may hold only digits, spaces, dots, dashes, brackets and a leading + ({0:?} is not)")]
    BadCharacter(char),
    #[error("is a national number: write it with its country code (+44 7700 900123)")]
    NoCountry,
    #[error("starts with no known country calling code")]
    UnknownCountry,
    #[error("is too short for a number of country code +{0}")]
    TooShort(u16),
    #[error("is too long for a number of country code +{0}")]
    TooLong(u16),
    #[error("has a length no number of country code +{0} has")]
    BadLength(u16),
    #[error("is not a phone number")]
    NotANumber,
}

/// A region code (`GB`, `BR`) for national numbers, as configured; `None` if unknown.
pub fn region(code: &str) -> Option<Region> {
    code.trim().to_ascii_uppercase().parse().ok()
}

/// `raw` as E.164 (`+` and 8 to 15 digits), or why it cannot be a number. `default` is the
/// region a number without a country code is read in (none: such a number is refused).
pub fn normalise(raw: &str, default: Option<Region>) -> Result<String, PhoneError> {
    let text = raw.trim();
    // A WhatsApp id carries the number before its `@c.us` (`@s.whatsapp.net` on some
    // engines); a `:device` suffix is not part of it.
    // `+44 (0) 7700…`: the trunk prefix some write in brackets is not dialled from abroad.
    let bracketed = text.replace("(0)", "");
    let text = bracketed.trim();
    let text = match text.split_once('@') {
        Some((user, "c.us" | "s.whatsapp.net")) => user.split(':').next().unwrap_or(user),
        Some(_) => return Err(PhoneError::NotANumber),
        None => text,
    };
    if text.is_empty() {
        return Err(PhoneError::Empty);
    }
    let mut digits = String::with_capacity(text.len());
    for (i, ch) in text.chars().enumerate() {
        match ch {
            '0'..='9' => digits.push(ch),
            '+' if i == 0 => {}
            ' ' | '.' | '-' | '(' | ')' | '/' | '\u{a0}' => {}
            other => return Err(PhoneError::BadCharacter(other)),
        }
    }
    if digits.is_empty() {
        return Err(PhoneError::NotANumber);
    }
    let international = if text.starts_with('+') {
        Some(digits)
    } else if let Some(rest) = digits.strip_prefix("00") {
        // The international prefix most of the world dials.
        Some(rest.to_string())
    } else if digits.starts_with('0') {
        // The national trunk prefix: a national number, read in the default region.
        None
    } else {
        // Bare digits: a national number of the default region if they make one (Brazil
        // writes `(11) 98765-4321`), else a number written without its `+` (how WhatsApp
        // ids and most exports write them).
        if let Some(region) = default {
            if let Ok(n) = phonenumber::parse(Some(region), text)
                .map_err(drop)
                .and_then(|p| checked(&p).map_err(drop))
            {
                return Ok(n);
            }
        }
        Some(digits)
    };
    let parsed = match (international, default) {
        (Some(d), _) => phonenumber::parse(None, format!("+{d}")),
        (None, Some(region)) => phonenumber::parse(Some(region), text),
        (None, None) => return Err(PhoneError::NoCountry),
    }
    .map_err(|e| match e {
        phonenumber::ParseError::InvalidCountryCode => PhoneError::UnknownCountry,
        _ => PhoneError::NotANumber,
    })?;
    checked(&parsed)
}

/// `parsed` as E.164 if its national number has a length its country's numbers have.
fn checked(parsed: &phonenumber::PhoneNumber) -> Result<String, PhoneError> {
    let code = parsed.code().value();
    let national = parsed.national().to_string();
    let lengths = possible_lengths(code);
    if lengths.is_empty() {
        return Err(PhoneError::UnknownCountry);
    }
    let len = national.len() as u16;
    match (lengths.first(), lengths.last()) {
        (Some(min), _) if len < *min => return Err(PhoneError::TooShort(code)),
        (_, Some(max)) if len > *max => return Err(PhoneError::TooLong(code)),
        _ if !lengths.contains(&len) => return Err(PhoneError::BadLength(code)),
        _ => {}
    }
    let e164 = parsed.format().mode(Mode::E164).to_string();
    // E.164: at most 15 digits after the `+`.
    if e164.len() > 16 {
        return Err(PhoneError::TooLong(code));
    }
    Ok(e164)
}

/// The lengths national numbers of country code `code` have, over every region that
/// shares the code and every kind of number (fixed, mobile, toll free, …), ascending.
fn possible_lengths(code: u16) -> Vec<u16> {
    let mut out: Vec<u16> = Vec::new();
    for meta in DATABASE.by_code(&code).unwrap_or_default() {
        let d = meta.descriptors();
        let kinds = [
            Some(d.general()),
            d.fixed_line(),
            d.mobile(),
            d.toll_free(),
            d.premium_rate(),
            d.shared_cost(),
            d.personal_number(),
            d.voip(),
            d.pager(),
            d.uan(),
            d.voicemail(),
        ];
        for desc in kinds.into_iter().flatten() {
            out.extend_from_slice(desc.possible_length());
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// The WhatsApp id of a number in E.164 (`+447700900123` → `447700900123@c.us`).
pub fn wa_id(e164: &str) -> String {
    format!("{}@c.us", e164.trim_start_matches('+'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(raw: &str) -> String {
        normalise(raw, None).unwrap_or_else(|e| panic!("{raw:?}: {e}"))
    }

    #[test]
    fn international_forms_become_e164() {
        for raw in [
            "+447700900123",
            "447700900123",
            "+44 7700 900123",
            "0044 7700 900123",
            "+44 (0) 7700-900.123",
            "447700900123@c.us",
            "447700900123:12@s.whatsapp.net",
            " +44 7700 900123 ",
        ] {
            assert_eq!(ok(raw), "+447700900123", "{raw}");
        }
        assert_eq!(ok("+55 11 98765-4321"), "+5511987654321");
        assert_eq!(ok("+1 (415) 555-0100"), "+14155550100");
        // Italy keeps the leading zero of its landlines in E.164.
        assert_eq!(ok("+39 06 1234 5678"), "+390612345678");
    }

    #[test]
    fn what_cannot_be_a_number_is_refused_with_why() {
        assert_eq!(normalise("", None), Err(PhoneError::Empty));
        assert_eq!(normalise("  ", None), Err(PhoneError::Empty));
        assert_eq!(normalise("12ab", None), Err(PhoneError::BadCharacter('a')));
        assert_eq!(
            normalise("+44+7700", None),
            Err(PhoneError::BadCharacter('+'))
        );
        assert_eq!(normalise("123@lid", None), Err(PhoneError::NotANumber));
        assert_eq!(normalise("1203@g.us", None), Err(PhoneError::NotANumber));
        assert_eq!(normalise("+", None), Err(PhoneError::NotANumber));
        assert_eq!(
            normalise("+999 1234 5678", None),
            Err(PhoneError::UnknownCountry)
        );
        assert!(normalise("+44 77", None).is_err());
        assert!(matches!(
            normalise("+44 7700 9001", None),
            Err(PhoneError::TooShort(44) | PhoneError::BadLength(44))
        ));
        assert!(matches!(
            normalise("+44 7700 900123 4567", None),
            Err(PhoneError::TooLong(44))
        ));
        assert!(normalise("+1234567890123456", None).is_err(), "16 digits");
        // A national number without a region: which country is unknown.
        assert_eq!(normalise("07700 900123", None), Err(PhoneError::NoCountry));
    }

    #[test]
    fn national_numbers_with_a_default_region() {
        let gb = region("gb");
        assert!(gb.is_some());
        assert_eq!(
            normalise("07700 900123", gb).as_deref(),
            Ok("+447700900123")
        );
        assert_eq!(
            normalise("+55 11 98765-4321", gb).as_deref(),
            Ok("+5511987654321")
        );
        assert_eq!(
            normalise("0044 7700 900123", gb).as_deref(),
            Ok("+447700900123")
        );
        let br = region("BR");
        assert_eq!(
            normalise("(11) 98765-4321", br).as_deref(),
            Ok("+5511987654321")
        );
        // Bare digits that make no national number are read as international.
        assert_eq!(
            normalise("447700900123", gb).as_deref(),
            Ok("+447700900123")
        );
        assert_eq!(
            normalise("5511987654321", gb).as_deref(),
            Ok("+5511987654321")
        );
        assert_eq!(region("XX"), None);
    }

    #[test]
    fn wa_ids_of_numbers() {
        assert_eq!(wa_id("+447700900123"), "447700900123@c.us");
    }
}
