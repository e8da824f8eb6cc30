-- The user a Better Auth session token belongs to, read from Better Auth's own session table in
-- the same database (columns token, "userId", "expiresAt"); null when the token is unknown or
-- expired, or when there is no such table. The table is named by the API's
-- BETTER_AUTH_SESSION_TABLE setting, and the function owner (the migrating role) needs select
-- on it.
--
-- The caller names the relation and the read runs as the owner, so the function reads only a
-- relation that can run none of the caller's code: a plain, permanent table (not a view, whose
-- query could be the caller's; not a temporary table; not its children, `only`), without
-- row-level security unless the owner owns it (a policy runs as whoever reads), whose three
-- columns have built-in types (a cast from a caller's type could call the caller's function).
-- Anything else is refused with PT500, which the API logs as a misconfiguration.
create or replace function app_private.better_auth_session_user(token text, session_table text)
returns text
language plpgsql stable security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  target regclass := pg_catalog.to_regclass(coalesce(session_table, 'public.session'));
  owner_id text;
begin
  if target is null then
    return null;  -- Better Auth's tables are not in this database (yet): no session is valid
  end if;
  if not exists (
       select from pg_catalog.pg_class as c
        where c.oid = target and c.relkind = 'r' and c.relpersistence <> 't'
          and (not c.relrowsecurity
               or c.relowner = (select r.oid from pg_catalog.pg_roles as r
                                 where r.rolname = current_user)))
     or (select pg_catalog.count(*) from pg_catalog.pg_attribute as a
          where a.attrelid = target and a.attnum > 0 and not a.attisdropped
            and ((a.attname in ('token', 'userId')
                  and a.atttypid in ('pg_catalog.text'::pg_catalog.regtype,
                                     'pg_catalog.varchar'::pg_catalog.regtype))
                 or (a.attname = 'expiresAt'
                     and a.atttypid in ('pg_catalog.timestamptz'::pg_catalog.regtype,
                                        'pg_catalog.timestamp'::pg_catalog.regtype)))) <> 3
  then
    raise exception using errcode = 'PT500',
      message = pg_catalog.format('%s is not a session table this service reads', target),
      hint = 'BETTER_AUTH_SESSION_TABLE must name a plain table with columns token and "userId" '
             '(text) and "expiresAt" (timestamp), without row-level security unless the '
             'migrating role owns it.';
  end if;
  execute pg_catalog.format(
    'select s."userId"::pg_catalog.text from only %s as s'
    ' where s.token = $1 and s."expiresAt" > pg_catalog.now()',
    target)
    into owner_id using better_auth_session_user.token;
  return owner_id;
end
$$;

comment on function app_private.better_auth_session_user(text, text) is
  'Owner of an unexpired Better Auth session token, or null.';
revoke all on function app_private.better_auth_session_user(text, text) from public;
grant execute on function app_private.better_auth_session_user(text, text) to public;
