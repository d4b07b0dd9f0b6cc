-- The customer's message that answered a survey (issue 19): analytics counts it as
-- traffic, never as a new request (docs/analytics.md).
ALTER TABLE csat_surveys ADD COLUMN answer_message_id BIGINT;
CREATE INDEX csat_surveys_answer ON csat_surveys (answer_message_id) WHERE answer_message_id IS NOT NULL;
