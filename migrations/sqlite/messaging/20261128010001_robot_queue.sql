-- Robot posts beyond WeCom's 20 per minute are queued (state 2, RobotDeliveryState QUEUED) and sent by the worker
-- as the robot's budget allows. payload: the WeCom `webhook/send` body of a queued post (cleared once it is
-- final). send_after: when a queued post is expected to go out (Unix ms). attempts: transient failures so far.
-- sent_at: when the post reached WeCom; posts with sent_at in the last minute count towards the 20.
-- messaging_group_robot.webhook_key now holds the key sealed with AES-256-GCM ("v1:" + base64 of nonce,
-- ciphertext and tag); plain rows from before are sealed by the service when it starts.
ALTER TABLE messaging_robot_post ADD COLUMN payload TEXT;
ALTER TABLE messaging_robot_post ADD COLUMN send_after BIGINT NOT NULL DEFAULT 0;
ALTER TABLE messaging_robot_post ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messaging_robot_post ADD COLUMN sent_at BIGINT;
UPDATE messaging_robot_post SET sent_at = created_at WHERE state = 1;
CREATE INDEX messaging_robot_post_sent ON messaging_robot_post (chat_id, sent_at);
CREATE INDEX messaging_robot_post_queue ON messaging_robot_post (state, send_after);
