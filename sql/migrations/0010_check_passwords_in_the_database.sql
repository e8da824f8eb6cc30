-- The database checks passwords itself (how-to/security-model.md): the request role no longer
-- reads password hashes, issues refresh tokens for a user id it names, sets a password hash
-- without proving the password, or counts and clears sign-in failures by itself. The new
-- functions are in sql/functions; this drops the ones they replace (create or replace cannot
-- change arguments or result columns), and holds every stored hash to the one form the API
-- makes, which is what lets the API recompute one from its parameters and salt alone:
-- argon2id, version 19, a salt of 8 bytes or more, a hash of 32 bytes, base64 without padding.
-- An API of the version before cannot sign anyone in or up against this schema: deploy the
-- API with the migration.
-- depends: 0009_record_task_changes

alter table app_private.accounts add constraint accounts_password_hash_check check (
  password_hash ~ '^[$]argon2id[$]v=19[$]m=[0-9]{1,9},t=[0-9]{1,9},p=[0-9]{1,9}[$][A-Za-z0-9+/]{11,}[$][A-Za-z0-9+/]{43}$'
);

drop function if exists app.credentials_for(text);
drop function if exists app.set_password_hash(text, text);
drop function if exists app.auth_succeeded(text);
drop function if exists app.auth_failed(text, text);
drop function if exists app.issue_refresh_token(text, uuid, bytea, timestamptz, uuid, timestamptz);
drop function if exists app.sign_up(text, text, text);
drop function if exists app.own_account();
