//! The served OpenAPI document is exact: schemathesis (pinned in scripts/test) generates
//! requests from `/api/openapi.json` against a real hub as an admin, with every check —
//! no 5xx, no undeclared status code, schema-valid input accepted and schema-invalid input
//! refused, responses matching their schemas, 405 with `Allow` for undeclared methods.

mod common;

use std::process::Command;

use common::{Backend, Setup};

/// Set by scripts/test to the schemathesis it installed.
const EXE_VAR: &str = "TICKHUB_SCHEMATHESIS";

/// Per-operation settings the document cannot carry.
const CONFIG: &str = r#"
# The current password is a secret the run does not know: every generated change is
# rightly refused (403). tests/auth_hardening.rs changes a password for real.
[[operations]]
# (one filter: schemathesis ORs the filters of a block)
include-name = "POST /api/auth/password"

[operations.checks.positive_data_acceptance]
expected-statuses = ["2xx", "400", "401", "403", "404", "409"]

[operations.phases.coverage.checks.positive_data_acceptance]
expected-statuses = ["2xx", "400", "401", "403", "404", "409"]

# `session` must name a registered session, which a document cannot list; an unknown one
# is 400 (tests/api.rs). Generated bodies use the registered one; the coverage phase does
# not apply `parameters` to bodies, so there alone a 400 counts as accepted.
#
# A phone that cannot be a number, an email that is no address, a type that is not
# configured, a value of the wrong type for a declared attribute: 422 naming the field.
[[operations]]
# (one filter: schemathesis ORs the filters of a block)
include-name = "POST /api/contacts"
parameters = { "body.session" = "default" }

[operations.checks.positive_data_acceptance]
expected-statuses = ["2xx", "400", "401", "404", "409", "422"]

[operations.phases.coverage.checks.positive_data_acceptance]
expected-statuses = ["2xx", "400", "401", "404", "409", "422"]

# A date that fits `YYYY-MM-DD` may still be no date (`0000-00-00`), a zone no IANA zone,
# `from` after `to`: 422 naming the parameter; `session` must name a registered session
# the caller sees: 404 (docs/csat.md).
[[operations]]
include-name = "GET /api/analytics/csat"

[operations.checks.positive_data_acceptance]
expected-statuses = ["2xx", "400", "401", "404", "422"]

[operations.phases.coverage.checks.positive_data_acceptance]
expected-statuses = ["2xx", "400", "401", "404", "422"]

# The CRM's rules go beyond a schema as well (docs/segments.md): a filter is JSON of the
# segment grammar whose clauses name known fields with fitting ops and values, a segment or
# member id must exist, a type in use cannot go, a name is taken once: 422 naming the field
# or clause, 404, 409.
[[operations]]
include-name-regex = "^(GET /api/contacts(/export)?|POST /api/contacts/imports(/preview)?|GET /api/contacts/imports/\\{id\\}|(GET|PATCH|DELETE) /api/contacts/\\{id\\}|(GET|POST|PATCH|DELETE) /api/(contact-types|contact-attributes|segments).*)$"

[operations.checks.positive_data_acceptance]
expected-statuses = ["2xx", "400", "401", "403", "404", "409", "422"]

[operations.phases.coverage.checks.positive_data_acceptance]
expected-statuses = ["2xx", "400", "401", "403", "404", "409", "422"]

# The team's rules go beyond what a schema says: a password's strength, an email's shape,
# sessions and assignees that exist and may take the conversation, IANA time zones, hours
# that do not overlap. A schema-valid body that breaks one is 422 naming the field.
[[operations]]
include-name-regex = "^(POST|PATCH) /api/(team-members|conversations/\\{id\\}/(assign|notes)|sessions/\\{name\\}$)"

[operations.checks.positive_data_acceptance]
expected-statuses = ["2xx", "401", "403", "404", "409", "422"]

[operations.phases.coverage.checks.positive_data_acceptance]
expected-statuses = ["2xx", "401", "403", "404", "409", "422"]

# A bot's rules go beyond a schema too: sessions and bots that exist, templates that parse,
# regular expressions that compile, a moment in RFC 3339, an order listing each of the bot's
# triggers once, each refused as 422 naming the field. JSON numbers like 1.0 are not
# integers to the hub (422 naming the field).
[[operations]]
include-name-regex = "^(POST|PATCH|PUT) /api/(bots(/\\{id\\}(/(test|replay|trigger-order))?)?|triggers(/\\{id\\})?)$"

[operations.checks.positive_data_acceptance]
expected-statuses = ["2xx", "401", "403", "404", "409", "422"]

[operations.phases.coverage.checks.positive_data_acceptance]
expected-statuses = ["2xx", "401", "403", "404", "409", "422"]

# A quick reply's text is a template: a schema-valid text with a variable the engine does
# not know, or a `{{` without its `}}`, is 422 naming the field (a taken shortcut is 409).
# So is a message template's body (docs/templates.md), and a blank name.
[[operations]]
include-name-regex = "^(POST|PATCH) /api/(quick-replies|templates)"

[operations.checks.positive_data_acceptance]
expected-statuses = ["2xx", "401", "403", "404", "409", "422"]

[operations.phases.coverage.checks.positive_data_acceptance]
expected-statuses = ["2xx", "401", "403", "404", "409", "422"]

# A campaign's rules go beyond a schema as well (docs/campaigns.md): a session, a segment
# and contacts that exist (in that session), a template that parses, an IANA time zone,
# quiet hours, an RFC 3339 start and a media URL that mean something, a rate within the
# session's: 422 naming the field; a move its status does not allow (editing a running
# campaign, resuming a completed one): 409.
[[operations]]
include-name-regex = "^(GET|POST|PATCH|DELETE) /api/campaigns.*$"

[operations.checks.positive_data_acceptance]
expected-statuses = ["2xx", "401", "403", "404", "409", "422"]

[operations.phases.coverage.checks.positive_data_acceptance]
expected-statuses = ["2xx", "401", "403", "404", "409", "422"]

# A report's period must be real dates (or instants) in an IANA time zone, `from` before
# `to`, at most three years apart (docs/analytics.md): 422 naming the parameter; a session
# the admin does not know is 404.
[[operations]]
include-name-regex = "^GET /api/analytics/.*$"

[operations.checks.positive_data_acceptance]
expected-statuses = ["2xx", "401", "403", "404", "422"]

[operations.phases.coverage.checks.positive_data_acceptance]
expected-statuses = ["2xx", "401", "403", "404", "422"]

# Integrations (docs/integrations.md): a subscriber URL must be absolute http(s) with a
# host and no credentials, a key's expiry in the future, a name not blank: 422 naming the
# field; an unknown subscription, delivery or key is 404.
[[operations]]
include-name-regex = "^(GET|POST|PATCH|PUT|DELETE) /api/(webhook-subscriptions|api-keys|settings).*$"

[operations.checks.positive_data_acceptance]
expected-statuses = ["2xx", "401", "403", "404", "409", "422"]

[operations.phases.coverage.checks.positive_data_acceptance]
expected-statuses = ["2xx", "401", "403", "404", "409", "422"]
"#;

async fn schemathesis_finds_nothing(b: Backend) {
    let exe = std::env::var(EXE_VAR).unwrap_or_else(|_| {
        panic!("{EXE_VAR} is not set: run the tests with scripts/test, which installs schemathesis")
    });
    // The run sends hundreds of logins and password changes from one address: the rate
    // limits (tests/auth_hardening.rs) would answer 429 to valid data.
    let generous = |k: &str| (k.to_string(), "1000000".to_string());
    let s = Setup::with(
        b,
        common::Options {
            env: vec![
                generous("TICKHUB_LOGIN_RATE_PER_ACCOUNT"),
                generous("TICKHUB_LOGIN_RATE_PER_IP"),
                // Webhook secrets and the WAHA key are stored encrypted (docs/integrations.md).
                ("TICKHUB_SECRET_KEY".into(), common::TEST_SECRET_KEY.into()),
            ],
            ..Default::default()
        },
    )
    .await;
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("schemathesis.toml");
    std::fs::write(&config, CONFIG).expect("write schemathesis.toml");
    let mut cmd = Command::new(&exe);
    cmd.current_dir(dir.path())
        .arg("--config-file")
        .arg(&config)
        .args(["run", &format!("{}/api/openapi.json", s.hub.url)])
        .args(["--checks", "all"])
        .args(["--header", &format!("Authorization: Bearer {}", s.token)])
        // Logging out would end the token the run authenticates with.
        .args(["--exclude-path", "/api/auth/logout"])
        // A websocket upgrade is no request and response that schemathesis can judge
        // (tests/api.rs covers the handshake).
        .args(["--exclude-path", "/ws"])
        .args(["--seed", "1", "--max-examples", "30", "--workers", "1"])
        .args(["--generation-database", "none", "--no-color"]);
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("join")
        .unwrap_or_else(|e| panic!("could not run {exe}: {e}"));
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "schemathesis found the document and the hub disagreeing ({}):\n{report}",
        out.status
    );
    // A run that tested nothing would pass too.
    let count = |label: &str| {
        report
            .lines()
            .find_map(|l| l.trim().strip_prefix(label))
            .and_then(|rest| rest.trim().split('/').next()?.parse::<u32>().ok())
    };
    let (selected, tested) = (count("Selected:"), count("Tested:"));
    assert!(
        selected.is_some_and(|n| n > 20) && tested == selected,
        "schemathesis did not test every operation ({tested:?} of {selected:?}):\n{report}"
    );
}
both!(schemathesis_finds_nothing);
