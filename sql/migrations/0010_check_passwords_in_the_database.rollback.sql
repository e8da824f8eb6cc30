-- Back to 0009: the functions that check passwords in the database go, so that the version
-- before creates its own (which hand the API the hash) when it migrates; until then, nobody
-- can sign in or up. The hashes stay as they are.
drop function if exists app.sign_in(text, text, text, bytea, timestamptz, uuid, timestamptz);
drop function if exists app.sign_up(text, text, text, text, bytea, timestamptz, uuid, timestamptz);
drop function if exists app.password_parameters(text);
drop function if exists app.rehash_password(text, text, text, text);
drop function if exists app.confirm_own_password(text, text);
drop function if exists app.own_account();
drop function if exists app_private.issue_refresh_token(text, bytea, timestamptz, uuid, timestamptz);
drop function if exists app_private.auth_failed(text, text);
drop function if exists app_private.hash_parameters(text);

alter table app_private.accounts drop constraint accounts_password_hash_check;
