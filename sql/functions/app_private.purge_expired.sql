-- Retention: deletes what is kept no longer than needed (how-to/privacy.md), and says how many
-- rows went from each table. `todo-api purge` runs it with the configured periods; so can cron
-- or pg_cron, as a role that owns the tables:
--   select * from app_private.purge_expired(interval '180 days', interval '7 days', interval '1 day',
--                                           interval '30 days');
-- Each table is one statement below, of the same shape; a table that needs purging is one more.
create or replace function app_private.purge_expired(
  audit_events_after interval,    -- age of an audit event
  expired_tokens_after interval,  -- time since a refresh family's last token expired
  rate_limits_after interval,     -- age of a sign-in failure window (never less than its 15 minutes)
  tombstones_after interval default interval '30 days'  -- age of a deleted task's tombstone
) returns table (purged_from text, purged_rows bigint)
language plpgsql volatile
set search_path = pg_catalog, pg_temp
as $$
declare
  audit_cutoff timestamptz := pg_catalog.now() - purge_expired.audit_events_after;
begin
  -- The audit trail is append-only but for this (app_private.tg_audit_events__guard): rows
  -- older than the cutoff this transaction names may go, for as long as it names one.
  perform pg_catalog.set_config('app.audit_purge_before', audit_cutoff::text, true);
  return query with gone as (
    delete from app.audit_events as e where e.created_at < audit_cutoff returning 1)
    select 'app.audit_events', pg_catalog.count(*) from gone;
  perform pg_catalog.set_config('app.audit_purge_before', '', true);

  -- A whole family at a time, once its newest token has expired: while one token of a family
  -- lives, its used ones must stay to tell a reuse (app.rotate_refresh_token).
  return query with gone as (
    delete from app_private.refresh_tokens as r
     where r.family_id in (
       select t.family_id from app_private.refresh_tokens as t
        group by t.family_id
       having pg_catalog.max(t.expires_at) < pg_catalog.now() - purge_expired.expired_tokens_after)
    returning 1)
    select 'app_private.refresh_tokens', pg_catalog.count(*) from gone;

  -- A revocation outlives its token for nothing: an expired token is refused anyway.
  return query with gone as (
    delete from app_private.revoked_access_tokens as r
     where r.expires_at < pg_catalog.now() returning 1)
    select 'app_private.revoked_access_tokens', pg_catalog.count(*) from gone;

  return query with gone as (
    delete from app_private.auth_failures as f
     where f.window_started_at < pg_catalog.now()
           - greatest(purge_expired.rate_limits_after, interval '15 minutes')
    returning 1)
    select 'app_private.auth_failures', pg_catalog.count(*) from gone;

  -- A password attempt is compared within 5 minutes or never (app_private.take_attempt). Each
  -- new attempt deletes those older too (app.sign_in_attempt); this is for when none comes.
  return query with gone as (
    delete from app_private.sign_in_attempts as a
     where a.created_at < pg_catalog.now() - interval '5 minutes' returning 1)
    select 'app_private.sign_in_attempts', pg_catalog.count(*) from gone;

  -- A deleted task's id, kept for the change feed; each user whose tombstones go remembers the
  -- highest number that went, and a cursor below it answers 410 (app.task_changes). The
  -- policies on both tables let the owner reach every user's rows while the cutoff is named.
  perform pg_catalog.set_config('app.tombstone_purge_before',
                                (pg_catalog.now() - purge_expired.tombstones_after)::text, true);
  return query with gone as (
    delete from app.task_tombstones as d
     where d.deleted_at < pg_catalog.now() - purge_expired.tombstones_after
    returning d.user_id, d.change_seq
  ), marked as (
    update app.task_sync_states as s
       set tombstones_purged_through = greatest(s.tombstones_purged_through, g.through)
      from (select x.user_id, pg_catalog.max(x.change_seq) as through
              from gone as x group by x.user_id) as g
     where s.user_id = g.user_id
    returning 1
  )
    select 'app.task_tombstones', pg_catalog.count(*) from gone;
  perform pg_catalog.set_config('app.tombstone_purge_before', '', true);
end
$$;

comment on function app_private.purge_expired(interval, interval, interval, interval) is
  'Deletes audit events, refresh families, revocations, rate-limit rows, password attempts, tombstones past retention.';
revoke all on function app_private.purge_expired(interval, interval, interval, interval) from public;
