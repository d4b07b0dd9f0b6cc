-- Campaigns over several WhatsApp sessions (issue 18, "WhatsApp session(s)"). A campaign
-- names one or more sessions; `campaigns.session_id` stays its first (the one its events
-- and audit entries are filed under, and what older readers know).
CREATE TABLE campaign_sessions (
    campaign_id BIGINT NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    session_id  BIGINT NOT NULL REFERENCES wa_sessions(id),
    -- The order they were named in (0: the first, `campaigns.session_id`).
    position    BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, session_id)
);
CREATE INDEX campaign_sessions_by_session ON campaign_sessions (session_id);
INSERT INTO campaign_sessions (campaign_id, session_id, position)
    SELECT id, session_id, 0 FROM campaigns;

-- Each recipient is sent from its own contact's session, written when it is planned (a
-- contact belongs to one session): each session's runner then reads a short range of
-- this index for its next recipient and its queued ones, however the audience is split.
ALTER TABLE campaign_recipients ADD COLUMN session_id BIGINT REFERENCES wa_sessions(id);
UPDATE campaign_recipients SET session_id =
    (SELECT c.session_id FROM campaigns c WHERE c.id = campaign_recipients.campaign_id);
CREATE INDEX campaign_recipients_by_session ON campaign_recipients (campaign_id, session_id, state, id);
