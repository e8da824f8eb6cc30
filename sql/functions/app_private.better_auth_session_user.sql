-- The user a Better Auth session token belongs to, read from Better Auth's own session table in
-- the same database (columns token, "userId", "expiresAt"); null when the token is unknown or
-- expired, or when there is no such table. The table is named by the API's BETTER_AUTH_SESSION_TABLE setting and must have
-- those columns; the function owner (the migrating role) needs select on it.
create or replace function app_private.better_auth_session_user(token text, session_table text)
returns text
language plpgsql stable security definer
set search_path = ''
as $$
declare
  target regclass := pg_catalog.to_regclass(coalesce(session_table, 'public.session'));
  owner_id text;
begin
  if target is null then
    return null;  -- Better Auth's tables are not in this database (yet): no session is valid
  end if;
  execute pg_catalog.format(
    'select s."userId"::text from %s as s where s.token = $1 and s."expiresAt" > pg_catalog.now()',
    target)
    into owner_id using better_auth_session_user.token;
  return owner_id;
end
$$;

comment on function app_private.better_auth_session_user(text, text) is
  'Owner of an unexpired Better Auth session token, or null.';
revoke all on function app_private.better_auth_session_user(text, text) from public;
grant execute on function app_private.better_auth_session_user(text, text) to public;
