-- +goose Up
-- New tables: no lock taken here waits on traffic, but the timeouts bound
-- it all the same (make lint-migrations).
SET LOCAL lock_timeout = '3s';
SET LOCAL statement_timeout = '1min';
-- People with their own sign-in (issue 19). email is the sign-in name
-- (ADMIN_USER's account may have a plain name such as "admin"). A user
-- without a password_hash has been invited and not yet chosen one.
-- New tables only: nothing here locks an existing one.
CREATE TABLE users (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email           text NOT NULL CHECK (email <> '' AND length(email) <= 254),
    display_name    text NOT NULL DEFAULT '' CHECK (length(display_name) <= 100),
    role            text NOT NULL CHECK (role IN ('admin', 'marketer', 'viewer')),
    disabled        boolean NOT NULL DEFAULT false,
    password_hash   text, -- bcrypt
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    last_sign_in_at timestamptz
);
-- Sign-in names are unique without regard to case.
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

-- +goose Down
SET LOCAL lock_timeout = '3s';
-- squawk-ignore ban-drop-table
DROP TABLE users;
