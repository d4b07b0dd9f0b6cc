-- An agent's conversation list (issue 16): an agent sees the conversations assigned to them
-- and the unassigned ones. Read as two ordered walks, one per branch, merged and cut at the
-- page (store::conversation_list), each branch is a range of this index in activity order;
-- with the activity index alone the database filtered or sorted every visible row.
CREATE INDEX conversations_assignee_activity ON conversations (assignee_id, last_message_at DESC, id DESC);
