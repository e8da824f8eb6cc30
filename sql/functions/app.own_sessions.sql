-- The caller's sessions with built-in accounts: each refresh family (one sign-in) that is
-- neither revoked nor expired, for the account export. Never a token or its hash.
create or replace function app.own_sessions()
returns table (
  family_id uuid, signed_in_at timestamptz, last_refreshed_at timestamptz, expires_at timestamptz
)
language sql stable security definer
set search_path = pg_catalog, pg_temp
as $$
  select r.family_id, pg_catalog.min(r.created_at), pg_catalog.max(r.created_at),
         pg_catalog.max(r.expires_at)
    from app_private.refresh_tokens as r
   where r.user_id = app.current_user_id()
   group by r.family_id
  having pg_catalog.bool_and(r.revoked_at is null)
     and pg_catalog.max(r.expires_at) > pg_catalog.now()
   order by 2
$$;

comment on function app.own_sessions() is 'The caller''s live refresh families, without secrets.';
revoke all on function app.own_sessions() from public;
grant execute on function app.own_sessions() to app_user;
