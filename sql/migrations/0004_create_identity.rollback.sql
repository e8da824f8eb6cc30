-- The functions in sql/functions that exist for these tables go with them.
drop function if exists app.sign_up(text, text, text);
drop function if exists app.credentials_for(text);
drop function if exists app.set_password_hash(text, text);
drop function if exists app.auth_wait_seconds(text, text);
drop function if exists app.auth_failed(text, text);
drop function if exists app.auth_succeeded(text);
drop function if exists app.issue_refresh_token(text, uuid, bytea, timestamptz);
drop function if exists app.rotate_refresh_token(bytea, bytea, timestamptz);
drop function if exists app.sign_out(bytea, uuid, timestamptz);
drop function if exists app_private.access_token_revoked(uuid);
drop table app.audit_events;
drop table app_private.auth_failures;
drop table app_private.revoked_access_tokens;
drop table app_private.refresh_tokens;
drop table app_private.accounts;
drop function if exists app_private.tg__refuse_change();
revoke insert (email, name), update (email, name) on app.users from app_user;
