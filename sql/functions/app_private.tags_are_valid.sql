-- The check on app.tasks.tags (migration 0008 created it and its constraint): at most 20 tags,
-- each 1 to 50 characters with no space at either end, no tag twice, no null; what
-- api/models.py checks first, so that a client gets 422 from either. It runs on every write of
-- a task. PL/pgSQL keeps its plan for the session; the SQL version before this one was planned
-- again by every statement (a SQL function with a subquery is never inlined), and a task with
-- no tags, the common case, now skips the subquery.
create or replace function app_private.tags_are_valid(tags text[]) returns boolean
language plpgsql immutable strict parallel safe
set search_path = pg_catalog, pg_temp
as $$
begin
  if pg_catalog.cardinality(tags_are_valid.tags) = 0 then
    return true;
  end if;
  return pg_catalog.cardinality(tags_are_valid.tags) <= 20
     and pg_catalog.array_position(tags_are_valid.tags, null) is null
     and (select pg_catalog.bool_and(pg_catalog.char_length(tag) between 1 and 50
                                     and tag = pg_catalog.btrim(tag))
                 and pg_catalog.count(distinct tag) = pg_catalog.count(*)
            from pg_catalog.unnest(tags_are_valid.tags) as tag) is not false;
end
$$;

comment on function app_private.tags_are_valid(text[]) is
  'Check of app.tasks.tags: at most 20, each 1 to 50 characters and trimmed, no repeats.';
