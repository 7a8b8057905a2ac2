-- UP
CREATE TABLE order_events (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL,
    event TEXT NOT NULL,
    at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE TRIGGER orders_placed AFTER INSERT ON orders
BEGIN
    INSERT INTO order_events (order_id, event) VALUES (NEW.id, 'placed');
END;
-- DOWN
DROP TRIGGER orders_placed;
DROP TABLE order_events;
