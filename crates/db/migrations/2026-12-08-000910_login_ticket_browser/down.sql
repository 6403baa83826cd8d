ALTER TABLE login_tickets DROP COLUMN browser_binding;
