-- A profile reads a customer's most recently changed member record: the index now gives it without a sort.
DROP INDEX customer_member_customer;
CREATE INDEX customer_member_customer ON customer_member (external_userid, updated_at);
