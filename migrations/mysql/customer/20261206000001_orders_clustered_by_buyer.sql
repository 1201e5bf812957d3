-- Orders are stored clustered by buyer: the primary key becomes (external_userid, order_no), so one customer's
-- orders share a page or two instead of one page each, and a profile's latest orders cost one or two page reads
-- instead of ten. An order not (yet) matched to a customer has an empty `external_userid` (before: NULL, which
-- a primary key cannot hold). The order number stays unique.
UPDATE customer_order SET external_userid = '' WHERE external_userid IS NULL;
ALTER TABLE customer_order
    MODIFY external_userid VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL DEFAULT '',
    DROP PRIMARY KEY,
    ADD PRIMARY KEY (external_userid, order_no),
    ADD UNIQUE KEY customer_order_no (order_no);
