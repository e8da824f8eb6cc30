-- Sign-in and sign-up rate limit, kept in PostgreSQL so that it holds across API processes:
-- at most 5 failures per email and 100 per client address in a 15-minute window. Returns how
-- many seconds the caller must wait, 0 when it may try now. The email is lowered under the
-- database's collation, as app_private.count_attempt counts it, whatever the argument's.
create or replace function app.auth_wait_seconds(email text, client_address text) returns integer
language sql stable security definer
set search_path = pg_catalog, pg_temp
as $$
  select coalesce(pg_catalog.max(pg_catalog.ceil(extract(epoch from
           f.window_started_at + interval '15 minutes' - pg_catalog.now())))::integer, 0)
    from app_private.auth_failures as f
   where f.window_started_at > pg_catalog.now() - interval '15 minutes'
     and ((f.key = 'email:'
                   || pg_catalog.lower(auth_wait_seconds.email collate pg_catalog."default")
           and f.failures >= 5)
       or (f.key = 'client:' || auth_wait_seconds.client_address and f.failures >= 100))
$$;

comment on function app.auth_wait_seconds(text, text) is
  'Seconds until this email and client may try to sign in or up again; 0 when now.';
revoke all on function app.auth_wait_seconds(text, text) from public;
grant execute on function app.auth_wait_seconds(text, text) to app_user;
