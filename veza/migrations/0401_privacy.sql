-- CCPA "Do Not Sell" preference, set by POST /users/me/privacy/opt-out.
ALTER TABLE users ADD COLUMN do_not_sell boolean NOT NULL DEFAULT false;
ALTER TABLE users ADD COLUMN do_not_sell_updated_at timestamptz;
