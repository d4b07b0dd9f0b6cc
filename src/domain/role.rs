use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Manager,
    Agent,
    Sales,
    Marketing,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Agent => "agent",
            Role::Sales => "sales",
            Role::Marketing => "marketing",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Some(match s {
            "admin" => Role::Admin,
            "manager" => Role::Manager,
            "agent" => Role::Agent,
            "sales" => Role::Sales,
            "marketing" => Role::Marketing,
            _ => return None,
        })
    }

    /// Supervisors see every conversation of their sessions and everyone's presence.
    pub fn supervises(self) -> bool {
        matches!(self, Role::Admin | Role::Manager)
    }
}
