//! The import's mapping step (issue 17): a proposed column for each header name of an
//! uploaded CSV, and a chosen mapping applied to the header before the import reads it.

use serde_json::{Map, Value};

use super::contact::check_key;
use super::FieldError;

/// The contact field a header name most likely holds (`None`: no guess; the column is
/// left out unless mapped). Names are compared without case, spaces or punctuation.
pub fn propose(name: &str) -> Option<String> {
    let key: String = name
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    let known = match key.as_str() {
        "phone" | "phonenumber" | "mobile" | "mobilenumber" | "cell" | "cellphone" | "tel"
        | "telephone" | "whatsapp" | "whatsappnumber" | "number" | "msisdn" | "numero"
        | "número" | "telefone" | "telefono" | "teléfono" | "handy" => "phone",
        "name" | "fullname" | "contact" | "contactname" | "customer" | "customername" => "name",
        "email" | "emailaddress" | "mail" => "email",
        "type" | "contacttype" | "kind" => "type",
        "tags" | "tag" | "labels" | "label" | "groups" => "tags",
        "notes" | "note" | "comment" | "comments" => "notes",
        "lifetimespend" | "spend" | "totalspend" | "totalspent" | "revenue" => "lifetime_spend",
        _ => {
            let attr = name.trim().strip_prefix("attr.").unwrap_or(name.trim());
            // Runs of anything else become one `_`, none at the ends.
            let lower = attr.trim().to_lowercase();
            let slug = lower
                .split(|c: char| !c.is_ascii_alphanumeric())
                .filter(|w| !w.is_empty())
                .collect::<Vec<_>>()
                .join("_");
            return check_key("", &slug).ok().map(|_| format!("attr.{slug}"));
        }
    };
    Some(known.to_string())
}

/// The header with `mapping` applied: each mapped name becomes its column (`null` or
/// `""`: left out, `-`); names the mapping does not mention stay as they are.
pub fn apply(header: &[String], mapping: &Map<String, Value>) -> Result<Vec<String>, FieldError> {
    for k in mapping.keys() {
        if !header.iter().any(|h| h == k) {
            return Err(FieldError::new(
                format!("mapping.{k}"),
                "no such column in the header",
            ));
        }
    }
    header
        .iter()
        .map(|h| match mapping.get(h) {
            None => Ok(h.clone()),
            Some(Value::Null) => Ok("-".into()),
            Some(Value::String(s)) if s.trim().is_empty() => Ok("-".into()),
            Some(Value::String(s)) => Ok(s.trim().to_string()),
            Some(_) => Err(FieldError::new(
                format!("mapping.{h}"),
                "a column name (phone, name, email, type, tags, notes, lifetime_spend, attr.<name>) or null",
            )),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn proposals() {
        let cases = [
            ("Mobile", Some("phone")),
            ("Phone Number", Some("phone")),
            ("Full Name", Some("name")),
            ("E-mail", Some("email")),
            ("Tags", Some("tags")),
            ("Plan", Some("attr.plan")),
            ("attr.city", Some("attr.city")),
            ("Shoe size", Some("attr.shoe_size")),
            ("Shoe size!!", Some("attr.shoe_size")),
            ("!!", None),
            ("9lives", None),
        ];
        for (name, want) in cases {
            assert_eq!(propose(name).as_deref(), want, "{name}");
        }
    }

    #[test]
    fn a_mapping_renames_and_leaves_out() {
        let h: Vec<String> = ["Mobile", "Who", "x"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let m = json!({"Mobile": "phone", "Who": "name", "x": null});
        let Value::Object(m) = m else { unreachable!() };
        assert_eq!(apply(&h, &m).unwrap(), ["phone", "name", "-"]);
        let Value::Object(bad) = json!({"Nope": "phone"}) else {
            unreachable!()
        };
        assert_eq!(apply(&h, &bad).unwrap_err().field, "mapping.Nope");
        let Value::Object(bad) = json!({"Who": 3}) else {
            unreachable!()
        };
        assert_eq!(apply(&h, &bad).unwrap_err().field, "mapping.Who");
    }
}
