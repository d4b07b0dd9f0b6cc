use serde_json::json;

use super::*;

fn schema() -> Schema {
    let mut s = Schema::default();
    for (name, kind) in [
        ("plan", AttrType::Choice),
        ("visits", AttrType::Number),
        ("renewal", AttrType::Date),
        ("vip", AttrType::Boolean),
    ] {
        s.attributes.insert(
            name.into(),
            AttrDef {
                name: name.into(),
                kind,
                choices: vec!["gold".into(), "silver".into()],
            },
        );
    }
    s
}

fn parse(v: serde_json::Value) -> Result<Filter, FieldError> {
    Filter::parse(&v, "filter", &schema(), Mode::Strict)
}

#[test]
fn the_contract_clauses_parse() {
    let f = parse(json!({"all": [
        {"field": "tags", "op": "contains", "value": "vip"},
        {"field": "type", "op": "eq", "value": "customer"},
        {"field": "attributes.plan", "op": "eq", "value": "gold"},
        {"field": "attributes.visits", "op": "gt", "value": 3},
        {"field": "last_message_at", "op": "gt", "value": "2026-01-01T00:00:00Z"},
        {"any": [{"field": "opted_out", "op": "eq", "value": false}]}
    ]}))
    .expect("valid");
    let Filter::All(nodes) = f else { panic!("all") };
    assert_eq!(nodes.len(), 6);
    assert_eq!(
        nodes[4],
        Node::Clause(Clause {
            field: Field::LastMessageAt,
            op: Op::Gt,
            value: Operand::Time(1_767_225_600_000),
        })
    );
    assert_eq!(
        nodes[3],
        Node::Clause(Clause {
            field: Field::Attribute {
                name: "visits".into(),
                kind: AttrKind::Number
            },
            op: Op::Gt,
            value: Operand::Float(3.0),
        })
    );
}

#[test]
fn a_bad_clause_is_named_by_its_path() {
    let e = parse(json!({"all": [
        {"field": "name", "op": "eq", "value": "a"},
        {"field": "type", "op": "eq", "value": "lead"},
        {"field": "foo", "op": "eq", "value": 1}
    ]}))
    .unwrap_err();
    assert_eq!(e.field, "filter.all[2]");
    assert!(
        e.to_string()
            .starts_with("filter.all[2]: unknown field 'foo'"),
        "{e}"
    );

    let e =
        parse(json!({"any": [{"all": [{"field": "tags", "op": "gt", "value": 1}]}]})).unwrap_err();
    assert_eq!(e.field, "filter.any[0].all[0]");
    assert!(e.reason.contains("does not take the op 'gt'"), "{e}");

    let e = parse(json!({"all": [{"field": "attributes.visits", "op": "gt", "value": "three"}]}))
        .unwrap_err();
    assert_eq!(e.field, "filter.all[0]");
    assert!(e.reason.contains("takes a number, got a text"), "{e}");

    let e = parse(json!({"all": [{"field": "attributes.plan", "op": "eq", "value": "bronze"}]}))
        .unwrap_err();
    assert!(e.reason.contains("none of the choices"), "{e}");
    // A stored segment whose choice was since removed still reads.
    assert!(Filter::parse(
        &json!({"all": [{"field": "attributes.plan", "op": "eq", "value": "bronze"}]}),
        "filter",
        &schema(),
        Mode::Stored
    )
    .is_ok());

    let e = parse(json!({"all": [{"field": "last_message_at", "op": "gt", "value": "yesterday"}]}))
        .unwrap_err();
    assert!(e.reason.contains("RFC 3339"), "{e}");
    let e = parse(json!({"all": [{"field": "name", "op": "like", "value": "a"}]})).unwrap_err();
    assert!(e.reason.contains("unknown op 'like'"), "{e}");
    assert_eq!(parse(json!({"all": 1})).unwrap_err().field, "filter.all");
    assert_eq!(parse(json!([1])).unwrap_err().field, "filter");
    assert!(parse(json!({"all": [], "any": []})).is_err());
    assert!(parse(json!({"all": [{"field": "consent", "op": "eq", "value": "maybe"}]})).is_err());
    assert!(
        parse(json!({"all": [{"field": "attributes.Bad", "op": "eq", "value": "x"}]})).is_err()
    );
}

#[test]
fn undeclared_attributes_compare_as_their_value() {
    let f = parse(json!({"all": [
        {"field": "attributes.score", "op": "gte", "value": 7.5},
        {"field": "attributes.city", "op": "eq", "value": "Lisbon"},
        {"field": "attributes.member", "op": "eq", "value": true}
    ]}))
    .expect("valid");
    let Filter::All(nodes) = f else { panic!("all") };
    let kinds: Vec<_> = nodes
        .iter()
        .map(|n| match n {
            Node::Clause(Clause {
                field: Field::Attribute { kind, .. },
                ..
            }) => *kind,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        kinds,
        vec![AttrKind::Number, AttrKind::Text, AttrKind::Boolean]
    );
}

#[test]
fn limits_hold() {
    let many: Vec<_> = (0..=MAX_CLAUSES)
        .map(|_| json!({"field": "name", "op": "exists"}))
        .collect();
    let e = parse(json!({ "all": many })).unwrap_err();
    assert_eq!(e.field, format!("filter.all[{MAX_CLAUSES}]"));
    let deep = json!({"all": [{"all": [{"all": [{"all": [{"all": []}]}]}]}]});
    assert!(parse(deep).is_err());
    assert!(parse(json!({"all": [{"field": "tags", "op": "in", "value": []}]})).is_err());
}

#[test]
fn and_joins_filters() {
    let a = parse(json!({"all": [{"field": "name", "op": "exists"}]})).unwrap();
    let b = parse(json!({"any": [{"field": "email", "op": "exists"}]})).unwrap();
    let Filter::All(nodes) = a.clone().and(Filter::everything()) else {
        panic!()
    };
    assert_eq!(nodes.len(), 1);
    let Filter::All(nodes) = a.and(b) else {
        panic!()
    };
    assert_eq!(nodes.len(), 2);
}

#[test]
fn campaign_engagement_clauses() {
    use crate::domain::segment_filter::{Engagement, Field, Node, Op, Operand};
    let f = parse(json!({"all": [
        {"field": "campaign.read", "op": "eq", "value": 7},
        {"field": "campaign.replied", "op": "not_exists"}
    ]}))
    .unwrap();
    let Filter::All(nodes) = f else { panic!("all") };
    let Node::Clause(first) = &nodes[0] else {
        panic!("clause")
    };
    assert_eq!(first.field, Field::Campaign(Engagement::Read));
    assert_eq!((first.op, &first.value), (Op::Eq, &Operand::Int(7)));
    for bad in [json!("7"), json!(0), json!(null)] {
        let e = parse(json!({"all": [{"field": "campaign.received", "op": "eq", "value": bad}]}))
            .unwrap_err();
        assert!(e.reason.contains("a campaign id"), "{e}");
    }
    let e =
        parse(json!({"all": [{"field": "campaign.read", "op": "gt", "value": 1}]})).unwrap_err();
    assert!(e.reason.contains("does not take the op 'gt'"), "{e}");
}
