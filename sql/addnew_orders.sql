-- Two new orders for existing customers, inserted while the pipeline runs,
-- to watch the change events flow through.
--   52: standard customer 4 (Tomasz Nowak), price > 300
--   53: premium customer 3 (Grace Okafor), price < 300
INSERT INTO public.orders (order_id, customer_id, price, product_code) VALUES
    (52, 4, 415.75, 'BAG-04'),
    (53, 3,  89.99, 'PEN-05');
