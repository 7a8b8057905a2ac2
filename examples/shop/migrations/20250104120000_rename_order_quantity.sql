-- UP
ALTER TABLE orders RENAME COLUMN quantity TO qty;
-- DOWN
ALTER TABLE orders RENAME COLUMN qty TO quantity;
