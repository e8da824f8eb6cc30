-- Schemas and the role every request runs as.
--
-- app          holds what the API touches: tables and the functions it calls.
-- app_private  holds trigger functions; the request role gets no usage on it.
-- app_user     is the request role: nologin, no bypassrls, owns nothing. Each request's
--              transaction switches to it (app.begin_request), so row-level security binds
--              even when DATABASE_URL logs in as a superuser or as the tables' owner.
--
-- Roles are cluster-wide: several databases (Neon branches, test clones) may share one, so it
-- is created only when absent and the rollback leaves it in place.

create schema app;
comment on schema app is 'Tables and functions of the task API.';
create schema app_private;
comment on schema app_private is 'Trigger functions and helpers the request role cannot reach.';

do $$
begin
  begin
    create role app_user nologin noinherit nobypassrls;
  -- Made by an earlier database in this cluster (duplicate_object), or by one migrating at the
  -- same moment, whose catalog row this insert then collides with (unique_violation).
  exception when duplicate_object or unique_violation then
    null;
  end;
  -- The role that migrates also serves, unless told otherwise: it must be allowed to switch to
  -- app_user. A superuser already may. A createrole owner (Neon's) that has just created
  -- app_user holds it with admin option only, which since PostgreSQL 16 does not include set,
  -- so it grants itself the membership.
  if not pg_catalog.pg_has_role(
    current_user, 'app_user',
    case when pg_catalog.current_setting('server_version_num')::int >= 160000 then 'set'
         else 'member' end
  ) then
    execute pg_catalog.format('grant app_user to %I', current_user);
  end if;
end
$$;

revoke all on schema app, app_private from public;
grant usage on schema app to app_user;
