-- Schema for the streaming-ETL source database (`inventory`, schema public).
--
-- Idempotent: safe to run more than once (CREATE TABLE IF NOT EXISTS; ALTER
-- TABLE ... REPLICA IDENTITY FULL is a no-op when already set).
--
-- Deliberately NO foreign key from orders.customer_id to customers.id: the
-- change-data-capture pipeline reads postgres.public.customers and
-- postgres.public.orders as two independent Kafka topics, so an order can
-- arrive (and must be handled) before its customer, and a customer may be
-- deleted while its orders remain. The enrichment join copes with that; the
-- database must not reject such rows either.

CREATE TABLE IF NOT EXISTS public.customers (
    id         integer      PRIMARY KEY,
    name       varchar(255) NOT NULL,
    age        integer,
    membership varchar(50)
);

CREATE TABLE IF NOT EXISTS public.orders (
    order_id     integer       PRIMARY KEY,
    customer_id  integer       NOT NULL,
    price        numeric(10,2) NOT NULL,
    product_code varchar(50)   NOT NULL
);

-- Full before-images in the logical-replication stream, so Debezium update
-- and delete events carry every column of the old row, not just the key.
ALTER TABLE public.customers REPLICA IDENTITY FULL;
ALTER TABLE public.orders REPLICA IDENTITY FULL;

-- Debezium's signal table: an operator re-reads a table while streaming goes on by inserting a row, e.g.
--   INSERT INTO debezium_signal VALUES ('resnapshot-1', 'execute-snapshot',
--     '{"data-collections": ["public.customers"], "type": "incremental"}');
-- (camel.component.debezium-postgres.signal-data-collection; the rows themselves never reach the pipeline's topics)
CREATE TABLE IF NOT EXISTS public.debezium_signal (
    id   varchar(64)   PRIMARY KEY,
    type varchar(32)   NOT NULL,
    data varchar(2048)
);
