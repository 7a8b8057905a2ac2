-- UP
CREATE TABLE products (
    id INTEGER PRIMARY KEY,
    sku VARCHAR(64) NOT NULL UNIQUE,
    title VARCHAR(255) NOT NULL,
    price_cents INTEGER NOT NULL CHECK (price_cents >= 0)
);
INSERT INTO products (sku, title, price_cents) VALUES
    ('MUG-01', 'Mug; blue', 1200),
    ('TEE-02', 'T-shirt -- large', 2500);
-- DOWN
DROP TABLE products;
