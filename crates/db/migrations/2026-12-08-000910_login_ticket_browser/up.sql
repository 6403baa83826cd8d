-- Issue 19 (login CSRF): a login ticket is redeemed only by the browser that started
-- connecting. talk-app's /connect sets a random nonce in a cookie of that browser and
-- hands the gateway its SHA-256 (base64url), which is stored here with the ticket; a
-- ticket whose binding does not match the redeeming browser's cookie is refused. Rows
-- made before this column (NULL) match no browser and expire within minutes.
ALTER TABLE login_tickets ADD COLUMN browser_binding TEXT;
