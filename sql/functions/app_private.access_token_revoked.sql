-- Whether an access token was signed out before it expired. Called by app.begin_request as the
-- login role, before the switch to app_user, on every request whose token has an id (the API's
-- own tokens). PL/pgSQL, not SQL: a SQL function with a `set` clause cannot be inlined, and its
-- query is planned again at every call (PostgreSQL 15), while PL/pgSQL keeps the plan for the
-- session (how-to/benchmark.md, "Functions on every request").
create or replace function app_private.access_token_revoked(token_id uuid) returns boolean
language plpgsql stable security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  return exists (
    select from app_private.revoked_access_tokens as r
     where r.jti = access_token_revoked.token_id and r.expires_at > pg_catalog.now());
end
$$;

comment on function app_private.access_token_revoked(uuid) is
  'True when this access token id was signed out and has not expired yet.';
revoke all on function app_private.access_token_revoked(uuid) from public;
grant execute on function app_private.access_token_revoked(uuid) to public;
