-- Stores a new refresh token (its SHA-256 only) in a new family: one family per sign-in or
-- sign-up. The access token issued with it is remembered by its jti and expiry, so that
-- erasing the account can revoke it (app.erase_account). Only app.sign_in and app.sign_up call
-- it, once they have checked the password or created the account: the request role cannot
-- issue a token for a user id of its choosing.
create or replace function app_private.issue_refresh_token(
  user_id text, token_hash bytea, expires_at timestamptz,
  access_token_id uuid, access_expires_at timestamptz
) returns void
language sql volatile security definer
set search_path = pg_catalog, pg_temp
as $$
  insert into app_private.refresh_tokens
    (family_id, user_id, token_hash, expires_at, access_token_id, access_expires_at)
  values (pg_catalog.gen_random_uuid(), issue_refresh_token.user_id,
          issue_refresh_token.token_hash, issue_refresh_token.expires_at,
          issue_refresh_token.access_token_id, issue_refresh_token.access_expires_at)
$$;

comment on function app_private.issue_refresh_token(text, bytea, timestamptz, uuid, timestamptz) is
  'Stores the hash of the first refresh token of a new family, and its access token''s id.';
revoke all on function app_private.issue_refresh_token(text, bytea, timestamptz, uuid, timestamptz)
  from public;
