-- UP
ALTER TABLE users ADD COLUMN status VARCHAR(20);
UPDATE users SET status = 'active' WHERE status IS NULL;
-- DOWN
ALTER TABLE users DROP COLUMN status;
