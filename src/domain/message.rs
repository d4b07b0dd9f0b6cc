//! Message direction and delivery status, and the rule that status only moves forward.

use super::status::text_enum;

text_enum! {
    /// `in` from the customer, `out` from the business (an agent, a bot, or the phone).
    Direction {
        In => "in",
        Out => "out",
    }
}

text_enum! {
    /// Delivery status of a message as agents see it.
    AckStatus {
        Pending => "pending",
        Sent => "sent",
        Delivered => "delivered",
        Read => "read",
        Played => "played",
        Failed => "failed",
    }
}

impl AckStatus {
    /// WAHA's ack numbers: -1 ERROR, 0 PENDING, 1 SERVER, 2 DEVICE, 3 READ, 4 PLAYED.
    pub fn from_waha(ack: i64) -> Option<AckStatus> {
        Some(match ack {
            -1 => AckStatus::Failed,
            0 => AckStatus::Pending,
            1 => AckStatus::Sent,
            2 => AckStatus::Delivered,
            3 => AckStatus::Read,
            4 => AckStatus::Played,
            _ => return None,
        })
    }

    fn rank(self) -> i32 {
        match self {
            AckStatus::Pending => 0,
            AckStatus::Sent => 1,
            AckStatus::Delivered => 2,
            AckStatus::Read => 3,
            AckStatus::Played => 4,
            AckStatus::Failed => -1,
        }
    }

    /// Acks arrive late, twice and out of order: only progress counts. A failure is
    /// terminal, and a message already delivered cannot fail any more.
    pub fn advance(self, next: AckStatus) -> Option<AckStatus> {
        if self == AckStatus::Failed || next == self {
            return None;
        }
        if next == AckStatus::Failed {
            return (self.rank() <= AckStatus::Sent.rank()).then_some(next);
        }
        (next.rank() > self.rank()).then_some(next)
    }
}

#[cfg(test)]
mod tests {
    use super::AckStatus::*;

    #[test]
    fn acks_only_move_forward() {
        assert_eq!(Sent.advance(Read), Some(Read));
        assert_eq!(Read.advance(Sent), None);
        assert_eq!(Read.advance(Read), None);
        assert_eq!(Pending.advance(Failed), Some(Failed));
        assert_eq!(Failed.advance(Read), None);
        assert_eq!(Delivered.advance(Failed), None);
        assert_eq!(Read.advance(Played), Some(Played));
    }
}
