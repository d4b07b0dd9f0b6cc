use super::status::text_enum;

text_enum! {
    /// What a team member does; the access policy decides what each may see and do.
    Role {
        Admin => "admin",
        Manager => "manager",
        Agent => "agent",
        Sales => "sales",
        Marketing => "marketing",
    }
}

impl Role {
    /// Supervisors see every conversation of their sessions and everyone's presence.
    pub fn supervises(self) -> bool {
        matches!(self, Role::Admin | Role::Manager)
    }
}
