-- Back to 0009: the functions that check passwords in the database go, and with them the
-- attempts waiting to be compared, so that the version before creates its own functions (which
-- hand the API the hash) when it migrates; until then, nobody can sign in or up, or erase a
-- built-in account. The hashes stay as they are.
drop function if exists app.sign_in(uuid, text, bytea, timestamptz, uuid, timestamptz, text, text);
drop function if exists app.sign_in_attempt(text, text, text);
drop function if exists app.sign_up(text, text, text, text, bytea, timestamptz, uuid, timestamptz);
drop function if exists app.password_parameters(text);
drop function if exists app.own_account();
drop function if exists app.erase_account(uuid, uuid, timestamptz, text, text, text);
drop function if exists app_private.take_attempt(uuid);
drop function if exists app_private.hash_matches(text, bytea);
drop function if exists app_private.count_attempt(text, text);
drop function if exists app_private.count_failure(text);
drop function if exists app_private.issue_refresh_token(text, bytea, timestamptz, uuid, timestamptz);
drop function if exists app_private.hash_parameters(text);
drop table app_private.sign_in_attempts;

alter table app_private.accounts drop constraint accounts_password_hash_check;
drop function app_private.is_password_hash(text);
