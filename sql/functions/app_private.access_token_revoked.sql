-- Whether an access token was signed out before it expired. Called by app.begin_request as the
-- login role, before the switch to app_user.
create or replace function app_private.access_token_revoked(token_id uuid) returns boolean
language sql stable security definer
set search_path = ''
as $$
  select exists (
    select from app_private.revoked_access_tokens as r
     where r.jti = access_token_revoked.token_id and r.expires_at > pg_catalog.now())
$$;

comment on function app_private.access_token_revoked(uuid) is
  'True when this access token id was signed out and has not expired yet.';
revoke all on function app_private.access_token_revoked(uuid) from public;
grant execute on function app_private.access_token_revoked(uuid) to public;
