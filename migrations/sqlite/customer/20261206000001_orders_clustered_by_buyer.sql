-- An order not (yet) matched to a customer has an empty `external_userid`, as in MySQL, where the column is
-- part of the primary key that clusters orders by buyer and so cannot be NULL.
UPDATE customer_order SET external_userid = '' WHERE external_userid IS NULL;
