-- The caller's own events in the audit trail, oldest first, for the account export. The request
-- role has no select grant on the trail: this is the one way it reads any of it, and only its
-- own rows (the select_own policy, which binds the owner through its app_user membership).
create or replace function app.own_audit_events()
returns table (
  event text, client_address text, user_agent text, request_id text, created_at timestamptz
)
language sql stable security definer
set search_path = pg_catalog, pg_temp
as $$
  select e.event, e.client_address, e.user_agent, e.request_id, e.created_at
    from app.audit_events as e
   where e.user_id = app.current_user_id()
   order by e.id
$$;

comment on function app.own_audit_events() is 'The caller''s own audit events, oldest first.';
revoke all on function app.own_audit_events() from public;
grant execute on function app.own_audit_events() to app_user;
