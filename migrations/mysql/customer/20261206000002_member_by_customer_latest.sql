-- A profile reads a customer's most recently changed member record: the index now gives it without a sort.
ALTER TABLE customer_member
    DROP INDEX customer_member_customer,
    ADD INDEX customer_member_customer (external_userid, updated_at);
