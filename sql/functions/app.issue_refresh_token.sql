-- Stores a new refresh token (its SHA-256 only) in a family: a new family at sign-in and
-- sign-up, the same family when one is rotated. The access token issued with it is remembered
-- by its jti and expiry, so that erasing the account can revoke it (app.erase_account).
create or replace function app.issue_refresh_token(
  user_id text, family_id uuid, token_hash bytea, expires_at timestamptz,
  access_token_id uuid, access_expires_at timestamptz
) returns void
language sql volatile security definer
set search_path = ''
as $$
  insert into app_private.refresh_tokens
    (family_id, user_id, token_hash, expires_at, access_token_id, access_expires_at)
  values (issue_refresh_token.family_id, issue_refresh_token.user_id,
          issue_refresh_token.token_hash, issue_refresh_token.expires_at,
          issue_refresh_token.access_token_id, issue_refresh_token.access_expires_at)
$$;

comment on function app.issue_refresh_token(text, uuid, bytea, timestamptz, uuid, timestamptz) is
  'Stores the hash of a new refresh token, and the id of the access token issued with it.';
revoke all on function app.issue_refresh_token(text, uuid, bytea, timestamptz, uuid, timestamptz)
  from public;
grant execute on function app.issue_refresh_token(text, uuid, bytea, timestamptz, uuid, timestamptz)
  to app_user;
